"""Time all reports against loading the register, in one process (run by `bench/run.py reports`).

    python bench/bench_reports.py REGISTER [--as-of YYYY-MM-DD]

Prints one JSON object: records, load seconds (`bir.cache.validation.load_register`), reports seconds
(`bir.reports.all_reports`) and per-report counts, so the report overhead is measured against the load
of the same register in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--as-of", default="2026-11-28")
    args = parser.parse_args(argv)
    from bir.api import load as load_register
    from bir.reports import all_reports

    t0 = time.perf_counter()
    result = load_register(args.root)
    t1 = time.perf_counter()
    reports = all_reports(result.register, dt.date.fromisoformat(args.as_of))
    t2 = time.perf_counter()
    lines = {name: sum(len(s.lines) for s in rep.sections()) for name, rep in reports.items()}
    json.dump({"records": len(result.register), "errors": result.errors, "load_seconds": round(t1 - t0, 3),
               "reports_seconds": round(t2 - t1, 3), "lines": lines}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
