"""Compare the runs of a sweep: a table, a CSV and a bar chart in the sweep directory.

    python -m sensorclip.report outputs/sweeps/2026-11-25_10-00-00
"""

from __future__ import annotations

import sys
from pathlib import Path

from sensorclip.entrypoint import run_cleanly
from sensorclip.eval.report import to_markdown, write_report


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__)
        raise SystemExit(0 if args and args[0] in ("-h", "--help") else 2)
    rows = run_cleanly(lambda: write_report(args[0]))
    print(to_markdown(rows))
    print(f"wrote {Path(args[0]) / 'report.md'}, report.csv, report.png")


if __name__ == "__main__":
    main()
