"""Run an entry point as a user would: a fresh ``python -m`` process in the repository."""

import os
import subprocess
import sys

from helpers import REPO


def run_module(module: str, *args: str, timeout: int = 600, cwd=REPO,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``env``: variables set on top of this process's environment."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def assert_clean_failure(result: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit code 1, every needle on one line of stderr, and no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert any(all(needle in line for needle in needles)
               for line in result.stderr.splitlines()), result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
