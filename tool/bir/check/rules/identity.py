"""A record's identity: its id is its file name, its kind is its folder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bir.base.problems import Severity
from bir.check.rules import Finding, rule

if TYPE_CHECKING:
    import datetime as dt

    from bir.base.config import Config
    from bir.base.model import Record


def id_matches_filename(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """The `id` equals the file name without `.yaml`, so a record is found by its id.

    Passes: `registry/hardware/srv-web-01.yaml` with `id: srv-web-01`.
    Fails:  `registry/hardware/srv-web-01.yaml` with `id: srv-web-1`.
    """
    stem = record.path.rsplit("/", 1)[-1].removesuffix(".yaml")
    if record.data.get("id") != stem:
        yield Finding("/id", f"id '{record.data.get('id')}' differs from the file name '{stem}.yaml'",
                      f"set `id: {stem}`, or rename the file to match the id (renaming changes the id: see `bir change`)")


def kind_matches_folder(record: Record, config: Config, day: dt.date) -> Iterator[Finding]:
    """The `kind` equals the folder the file is in, so every record is validated by the right schema.

    Passes: `registry/licence/m365-e3.yaml` with `kind: licence`.
    Fails:  `registry/hardware/m365-e3.yaml` with `kind: licence`.
    """
    folder = record.path.split("/")[-2]
    kind = record.data.get("kind")
    if kind != folder:
        yield Finding("/kind", f"record of kind '{kind}' is in the '{folder}' folder",
                      f"move the file to registry/{kind}/ or set `kind: {folder}`")


RECORD_ID_FILENAME = rule("record.id-filename", Severity.ERROR, "id equals the file name", None, record=id_matches_filename)
RECORD_KIND_FOLDER = rule("record.kind-folder", Severity.ERROR, "kind equals the folder", None, record=kind_matches_folder)
RULES = [RECORD_ID_FILENAME, RECORD_KIND_FOLDER]
