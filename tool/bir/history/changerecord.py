"""The change record: the fields of a CHM change, asked for by the pull-request template and kept in git.

Before merge, `bir change --event FILE` reads the GitHub `pull_request` event payload and checks the
pull request's body for the template's fields; which are required is configuration
(`bir.yaml` `change.required_fields`, snake_case names of the headings below).

After merge, the record lives in the squash commit's message as git trailers, one per field:

    Change-Type: normal
    Change-Reason: Replace the failing database server
    Change-Risk: Low; the replica takes over
    Change-Impact: Customer portal read-only for 5 minutes
    Change-Backout-Plan: Fail back to srv-db-01
    Change-Planned-Date: 2026-05-02

`bir log` and `bir history` read them back (`trailers_of`). The template field `Change-Type` keeps its name
as trailer; every other field gets the `Change-` prefix so trailers never collide with other tools'.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bir.base.problems import Problem, UsageError
from bir.base.rules import define

# snake_case configuration name -> the heading used in the template and the PR body
FIELDS: dict[str, str] = {
    "change_type": "Change-Type",
    "reason": "Reason",
    "risk": "Risk",
    "impact": "Impact",
    "backout_plan": "Backout-Plan",
    "planned_date": "Planned-Date",
}
CHANGE_TYPES = ("standard", "normal", "emergency")
TRAILER = {name: ("Change-Type" if name == "change_type" else f"Change-{heading}") for name, heading in FIELDS.items()}
RECORD_MISSING = define("change.record-missing", "error", "change-record", "the change record states every required field", """
    The pull request (or the merged commit) does not fill in a field that `change.required_fields` in
    `bir.yaml` requires; a placeholder (`TBD`, `n/a`, `...`) counts as empty.

    Passes: `## Reason` followed by "Replace the failing database server".
    Fails:  `## Reason` followed only by the template's comment.
    """)
RECORD_TYPE = define("change.record-type", "error", "change-record", "the change type is standard, normal or emergency", """
    The Change-Type is not one of standard, normal or emergency (or several are ticked).

    Passes: `- [x] normal`.
    Fails:  `- [x] normal` and `- [x] emergency`, or `Change-Type: urgent`.
    """)
RECORD_DATE = define("change.record-date", "error", "change-record", "the planned date is a date", """
    The Planned-Date is not written as YYYY-MM-DD.

    Passes: `Planned-Date: 2026-05-02`.
    Fails:  `Planned-Date: next Tuesday`.
    """)
_PLACEHOLDER = re.compile(r"^(?:<!--.*?-->|_+|\.\.\.|n/?a|tbd|todo|-)$", re.IGNORECASE | re.DOTALL)


@dataclass(slots=True)
class ChangeRecord:
    """The fields found (snake_case name -> text) and the problems with them."""

    fields: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    number: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "fields": self.fields, "problems": [p.to_dict() for p in self.problems]}

    def trailers(self) -> str:
        """The fields as trailers for the squash commit message."""
        return "\n".join(f"{TRAILER[k]}: {' '.join(v.split())}" for k, v in self.fields.items() if v)


def _strip_comments(text: str) -> str:
    return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)


def parse_body(body: str) -> dict[str, str]:
    """Fields of a pull-request body, written either as `Heading: value` lines or as `## Heading`
    sections (the value is the text up to the next heading). HTML comments (the template's hints) are
    ignored; a value that is only a placeholder counts as empty."""
    text = _strip_comments(body.replace("\r\n", "\n"))
    by_heading = {h.lower(): name for name, h in FIELDS.items()}
    by_heading.update({h.lower().replace("-", " "): name for name, h in FIELDS.items()})
    found: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []

    def flush() -> None:
        if current is not None and current not in found:
            found[current] = "\n".join(buf).strip()

    for line in text.split("\n"):
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
        inline = re.match(r"^\s*(?:[-*]\s+)?\**([A-Za-z][A-Za-z -]*?)\**\s*:\s*(.*)$", line)
        if heading:
            flush()
            key = heading.group(1).strip().strip("*").lower()
            current, buf = by_heading.get(key), []
            continue
        if inline and inline.group(1).strip().lower() in by_heading:
            name = by_heading[inline.group(1).strip().lower()]
            if name not in found and inline.group(2).strip():
                found[name] = inline.group(2).strip()
            continue
        if current is not None:
            buf.append(line)
    flush()
    out = {}
    for name, value in found.items():
        value = value.strip()
        if name == "change_type":
            value = _checked_type(value)
        out[name] = "" if _PLACEHOLDER.match(value or "-") else value
    return out


def _checked_type(value: str) -> str:
    """`- [x] normal` checkbox lists or a plain word: the chosen change type (or the text as written)."""
    ticked = re.findall(r"\[[xX]\]\s*\**([A-Za-z]+)", value)
    if ticked:
        return ticked[0].lower() if len(ticked) == 1 else ", ".join(t.lower() for t in ticked)
    if re.search(r"\[\s\]", value):
        return ""  # a checkbox list with nothing ticked
    return value.strip().strip("`*").lower() if value.strip().lower().strip("`*") in CHANGE_TYPES else value.strip()


def check_body(body: str, required: tuple[str, ...], source: str = "pull request") -> ChangeRecord:
    fields = parse_body(body or "")
    problems: list[Problem] = []
    for name in required:
        heading = FIELDS.get(name, name)
        if not fields.get(name):
            problems.append(RECORD_MISSING.problem(source, 0, 0,
                                  f"the pull request does not say its {heading} (required by change.required_fields)",
                                  f"fill in the '{heading}' section of the pull-request template"))
    ct = fields.get("change_type")
    if ct and ct not in CHANGE_TYPES:
        problems.append(RECORD_TYPE.problem(source, 0, 0, f"Change-Type '{ct}' is not one of {', '.join(CHANGE_TYPES)}",
                              "tick exactly one change type in the template"))
    pd = fields.get("planned_date")
    if pd and not re.match(r"^\d{4}-\d{2}-\d{2}\b", pd):
        problems.append(RECORD_DATE.problem(source, 0, 0, f"Planned-Date '{pd}' is not a date (YYYY-MM-DD)",
                              "write the planned date as YYYY-MM-DD"))
    return ChangeRecord(fields, problems)


def check_event(path: Path, required: tuple[str, ...]) -> ChangeRecord:
    """Read a GitHub event payload (the file `GITHUB_EVENT_PATH` names) and check its pull request's body."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except RecursionError:
        raise UsageError(f"cannot read the event payload {path}: it is nested too deeply to be a GitHub event") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload {path}: {str(exc)[:200]}") from None
    pr = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pr, dict):
        if isinstance(payload, dict) and "merge_group" in payload:
            return ChangeRecord()  # a merge-queue run: the pull request was checked before it was queued
        raise UsageError(f"{path} is not a pull_request event payload (no `pull_request` object)")
    raw_body = pr.get("body")
    body = raw_body if isinstance(raw_body, str) else ""
    number = pr.get("number") if isinstance(pr.get("number"), int) else None
    record = check_body(body, required, f"pull request #{number}" if number else "pull request")
    record.number = number
    return record


def trailers_of(message: str) -> dict[str, str]:
    """The change record kept in a commit message: snake_case field -> value, from its trailers.

    Trailers are the `Key: value` lines of the message's last paragraph (as `git interpret-trailers
    --parse` reads them, without a git process per commit).
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:
        return {}
    by_trailer = {t.lower(): name for name, t in TRAILER.items()}
    out: dict[str, str] = {}
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in by_trailer:
            out[by_trailer[key.strip().lower()]] = value.strip()
    return out


def record_of_message(message: str) -> dict[str, str]:
    """The change record a merged commit carries: its trailers (`Change-Type: normal`), else the pull request's
    filled template, which GitHub's squash merge puts in the message ("pull request title and description")."""
    fields = trailers_of(message)
    if fields:
        return fields
    _subject, _, body = message.partition("\n")
    return {k: v for k, v in parse_body(body).items() if v} if body.strip() else {}


def missing_fields(record: dict[str, str], required: tuple[str, ...]) -> list[str]:
    """The required fields (snake_case) a change record lacks, and a wrong change type counts as lacking."""
    missing = [name for name in required if not record.get(name)]
    change_type = record.get("change_type")
    if change_type and change_type not in CHANGE_TYPES and "change_type" not in missing:
        missing.append("change_type")
    return missing
