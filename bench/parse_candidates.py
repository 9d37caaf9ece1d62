"""Parse the same record files with libyaml, bir's strict loader and each faster YAML parser installed.

    python bench/parse_candidates.py REGISTER_ROOT [NAME...]

The candidates are not dependencies of bir: install them in a separate environment to re-run the
evaluation (`pip install py-yaml12 yaml-rs rapidyaml`). Files are read into memory first; each figure is the
best of three passes over all of them in one process. Then each candidate's reading of the constructs
strict YAML judges is printed (a YAML 1.1 look-alike, an alias, a duplicate key, a typed key), which is
what decides whether it could stand in for libyaml without changing what a record means.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tool"))

CONSTRUCTS = {
    "octal-looking": "a: 0777\n", "hex": "a: 0x1F\n", "dot float": "a: .5\n", "huge float": "a: 1e999\n",
    "typed keys": "1: x\ntrue: y\n", "alias": "a: &x {b: 1}\nc: *x\n", "duplicate": "a: 1\na: 2\n",
}


def _candidates() -> dict[str, Callable[[bytes], Any]]:
    import yaml

    from bir.read.yamlstrict import parse

    out: dict[str, Callable[[bytes], Any]] = {
        "libyaml CSafeLoader": lambda d: yaml.load(d, Loader=yaml.CSafeLoader),
        "bir strict loader": lambda d: parse(d, "f.yaml").value,
    }
    try:
        import yaml12

        out["py-yaml12 parse_yaml"] = lambda d: yaml12.parse_yaml(d.decode())
    except ImportError:
        pass
    try:
        import yaml_rs

        out["yaml-rs loads"] = lambda d: yaml_rs.loads(d.decode(), parse_datetime=False)
    except ImportError:
        pass
    try:
        import ryml

        out["rapidyaml parse only"] = ryml.parse_in_arena

        def walk(tree: Any, n: int) -> Any:
            if tree.is_map(n):
                mapping, c = {}, tree.first_child(n)
                while c != ryml.NONE:
                    mapping[bytes(tree.key(c)).decode()] = walk(tree, c)
                    c = tree.next_sibling(c)
                return mapping
            if tree.is_seq(n):
                items, c = [], tree.first_child(n)
                while c != ryml.NONE:
                    items.append(walk(tree, c))
                    c = tree.next_sibling(c)
                return items
            v = tree.val(n)
            return bytes(v).decode() if v is not None else None

        def parse_walk(d: bytes) -> Any:
            tree = ryml.parse_in_arena(d)
            return walk(tree, tree.root_id())

        out["rapidyaml parse + walk"] = parse_walk
    except ImportError:
        pass
    return out


def main(argv: list[str]) -> int:
    root, wanted = argv[0], argv[1:]
    paths = sorted(glob.glob(os.path.join(root, "registry", "*", "*.yaml")))
    datas = [Path(p).read_bytes() for p in paths]
    for name, fn in _candidates().items():
        if wanted and name not in wanted:
            continue
        best = min(_timed(fn, datas) for _ in range(3))
        print(f"{name:26s} {best:7.3f} s  ({len(datas)} files)", flush=True)
        if name.endswith("parse only"):
            continue  # a tree, not values: nothing to compare
        readings = []
        for what, text in CONSTRUCTS.items():
            try:
                readings.append(f"{what}: {fn(text.encode())!r}")
            except Exception as exc:
                readings.append(f"{what}: {type(exc).__name__}")
        print("    " + "; ".join(readings))
    return 0


def _timed(fn: Callable[[bytes], Any], datas: list[bytes]) -> float:
    started = time.perf_counter()
    for d in datas:
        fn(d)
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
