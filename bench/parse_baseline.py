"""The floor for `bir validate`: parse every record file with libyaml and nothing else.

    python bench/parse_baseline.py REGISTER_ROOT [--procs 1|2]

Lists `registry/*/*.yaml`, then parses each file with `yaml.load(f.read(), Loader=yaml.CSafeLoader)`, in this
process (`--procs 1`) or split in halves across forked worker processes. Prints one JSON line:
`{"files": N, "seconds": S}` where S excludes interpreter start-up (the harness times the whole process).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection

import yaml


def list_records(root: str) -> list[str]:
    registry = os.path.join(root, "registry")
    out: list[str] = []
    for kind in sorted(os.listdir(registry)):
        folder = os.path.join(registry, kind)
        if os.path.isdir(folder):
            out.extend(os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".yaml"))
    return out


def parse_all(paths: Sequence[str]) -> int:
    loader = yaml.CSafeLoader
    for path in paths:
        with open(path, encoding="utf-8") as f:
            yaml.load(f.read(), Loader=loader)
    return len(paths)


def _worker(paths: Sequence[str], conn: Connection) -> None:
    conn.send(parse_all(paths))
    conn.close()


def parse_split(paths: Sequence[str], procs: int) -> int:
    ctx = mp.get_context("fork")
    workers = []
    for k in range(procs):
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(paths[k::procs], send))
        proc.start()
        send.close()
        workers.append((proc, receive))
    total = 0
    for proc, receive in workers:
        total += receive.recv()
        proc.join()
        if proc.exitcode != 0:
            raise RuntimeError(f"parse worker exited with {proc.exitcode}")
    return total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Parse every record of a register with libyaml only.")
    parser.add_argument("root")
    parser.add_argument("--procs", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = list_records(args.root)
    files = parse_all(paths) if args.procs <= 1 else parse_split(paths, args.procs)
    print(json.dumps({"files": files, "seconds": round(time.perf_counter() - started, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
