"""The register for download: JSON, CSV per kind and SQLite (with its datasette metadata), byte-identical to
`bir export` (`bir.write.exporters`).

The JSON is written by the exporters' encoder (orjson: 110 MB at 100,000 records, in memory only as
bytes); the CSV files are streamed to disk with the exporters' cell rules rather than built as one string
each. The site's tests check that the files equal `exporters.to_json` and `exporters.to_csv`. CSV cells are
neutralised by `exporters.safe_cell`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bir.base.model import KINDS, Register
from bir.reports import Evaluation
from bir.write import exporters, sqlitedb


def write_json(register: Register, path: Path) -> None:
    """`exporters.to_json`, as bytes."""
    path.write_bytes(exporters.json_bytes(register))


def write_csv(register: Register, folder: Path) -> list[Path]:
    """`exporters.to_csv`, written one kind at a time (`exporters.write_kind_csv`) instead of held in memory."""
    written = []
    for kind, records in exporters.records_by_kind(register).items():
        path = folder / f"{kind}.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            exporters.write_kind_csv(handle, records)
        written.append(path)
    return written


@dataclass(frozen=True, slots=True)
class RecordFiles:
    """What `write_record_files` wrote: (file name, description) of each file, and the database it started."""

    files: list[tuple[str, str]]
    database: sqlitedb.PartialDatabase


def write_record_files(register: Register, point: Any, out: Path) -> RecordFiles:
    """The downloads that need the records only, no report: the JSON, the CSV files and the database's record
    tables (the site writes them while the reports are computed)."""
    out.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, str]] = []
    write_json(register, out / "register.json")
    files.append(("register.json", "every record, as validated, in one JSON document"))
    counts = {kind: len(register.of_kind(kind)) for kind in KINDS}
    for path in write_csv(register, out):
        files.append((path.name, f"{counts.get(path.stem, 0)} {path.stem} records, one row each"))
    return RecordFiles(files, sqlitedb.begin_sqlite(register, point, out / "register.sqlite"))


def write_figure_files(evaluation: Evaluation, out: Path, first: RecordFiles) -> list[tuple[str, str, int]]:
    """The rest of the downloads, after `write_record_files`: the database's figures and its metadata.
    Returns (file name, description, size in bytes) of every download."""
    sqlitedb.finish_sqlite(evaluation, first.database)
    files = [*first.files,
             ("register.sqlite", "SQLite database: a typed table per kind, `records`, `relations`, `exchange_rates` "
              "and the report figures (book values, run costs, TCO, end-of-life dates, risk findings)"),
             ("register.metadata.json", "datasette metadata for it: `datasette register.sqlite --metadata "
              "register.metadata.json`")]
    return [(name, desc, (out / name).stat().st_size) for name, desc in files]


def write_downloads(evaluation: Evaluation, out: Path) -> list[tuple[str, str, int]]:
    """Write every download into `out`; returns (file name, description, size in bytes)."""
    return write_figure_files(evaluation, out, write_record_files(evaluation.register, evaluation.point, out))
