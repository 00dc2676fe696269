"""Run an entry point as a user would: a fresh ``python -m`` process in the repository."""

import subprocess
import sys

from helpers import REPO


def run_module(module: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def assert_clean_failure(result: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit code 1, every needle in stderr, and no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    for needle in needles:
        assert needle in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
