"""What a cold `bir validate` costs besides its parse, against the bare libyaml parse (run by `bench/run.py validate`).

    python bench/validate_floor.py REGISTER_ROOT

In one process, with no cache (`BIR_NO_RESULT_CACHE`, `use_cache=False`) and one job, so the three figures
share an interpreter and a machine minute:
- `bare_parse`: every record file through `yaml.load(..., Loader=yaml.CSafeLoader)`, as `parse_baseline.py`;
- `strict_parse`: every record file through bir's strict loader (`bir.read.yamlstrict.parse`);
- `validate_without_parse`: `bir.api.validate` with the strict parse of each file already done: the checker
  looks the result up instead of parsing (the lookup is a dict access). This is what validation would cost
  with a parser that took no time at all: the floor of a cold validate, whatever the parser.

Prints one JSON line with the seconds of each and the file count. The ratio `validate_without_parse /
bare_parse` is the lowest `bir cold / parse` that any parser could give this code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parse_baseline import list_records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    args = parser.parse_args(argv)
    os.environ["BIR_NO_RESULT_CACHE"] = "1"
    # A cache folder of its own, empty: the schema validators are generated as in a cold run.
    os.environ["BIR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bir-floor-")
    import bir.check.checker as checker
    from bir.api import validate
    from bir.read.yamlstrict import parse

    paths = list_records(str(args.root))
    contents = []
    for path in paths:
        with open(path, "rb") as f:
            contents.append(f.read())

    started = time.perf_counter()
    for data in contents:
        yaml.load(data.decode("utf-8"), Loader=yaml.CSafeLoader)
    bare = time.perf_counter() - started

    started = time.perf_counter()
    parsed: dict[bytes, Any] = {data: parse(data, path) for data, path in zip(contents, paths, strict=True)}
    strict = time.perf_counter() - started

    missed: list[str] = []

    def looked_up(data: bytes, path: str) -> Any:
        found = parsed.get(bytes(data))
        if found is None:  # not read as listed (counted: the figure is the floor only when none is)
            missed.append(path)
            return parse(data, path)
        return found

    checker.parse = looked_up  # type: ignore[assignment]
    started = time.perf_counter()
    result = validate(args.root, use_cache=False, jobs=1)
    without_parse = time.perf_counter() - started
    shutil.rmtree(os.environ["BIR_CACHE_DIR"], ignore_errors=True)
    print(json.dumps({"files": len(paths), "records": result.summary.records, "errors": result.summary.errors,
                      "parsed_again": len(missed),
                      "bare_parse": round(bare, 4), "strict_parse": round(strict, 4),
                      "validate_without_parse": round(without_parse, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
