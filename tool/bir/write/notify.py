"""Upcoming deadlines as GitHub issues: one issue per deadline, kept up to date while open, closed when resolved.

Driven by the lifecycle report (`bir report lifecycle --format json`): each of its events of category
`deadline` (a warranty, support, life, contract, licence or subscription term ends, or the last day to
give notice) is one issue; reminders (verification due, end of useful life) are not.

- A deadline is identified by its rule, its record and its date, written as a hidden marker at the top of
  its issue's body (`<!-- bir-deadline: event.notice_deadline ct-0042 2027-01-15 -->`). A run reads every
  issue labelled `bir-deadline` (open and closed) first, so reruns update and never duplicate.
- An open issue is updated when its title, body or bir's labels (`deadline:`, `kind:`, `owner:`) differ
  from what the register says; labels people added are kept.
- An open issue whose deadline is no longer in the report is closed with a comment saying why (the date
  moved, the record ended or left the register, the date passed). Nothing is closed while the register
  has validation errors (a broken record's deadlines are missing from the report, not resolved).
- An issue a person closed stays closed; one bir closed is reopened if its deadline comes back.
- Only issues labelled `bir-deadline` are read (on GitHub only people with write access can label), so
  an issue anyone else opens with a marker is never taken for one of these.

Every text from a record reaches the issue through `bir.base.escape.markdown`; titles hold only words of
bir's own, the record id (a lowercase slug) and the date. The REST API is spoken by `bir.write.githubapi`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bir.base import escape
from bir.base.model import Register
from bir.base.problems import UsageError
from bir.reports import Evaluation
from bir.reports.render import as_dict
from bir.write.githubapi import GitHub, Issue

LABEL = "bir-deadline"
_MARKER = re.compile(r"^<!-- bir-deadline: ([a-z0-9_.]+) ([a-z0-9]+(?:-[a-z0-9]+)*) (\d{4}-\d{2}-\d{2}) -->")
_CLOSED = "<!-- bir-deadline-closed -->"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_OURS = ("deadline:", "kind:", "owner:")
_MAX_LABEL = 50  # GitHub's limit on a label's name
TITLES = {
    "warranty_end": "Warranty ends",
    "end_of_support": "End of support",
    "end_of_life": "End of life",
    "contract_end": "Contract ends",
    "notice_deadline": "Notice deadline",
    "licence_expiry": "Licence expires",
    "term_end": "Subscription term ends",
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """One upcoming deadline of the lifecycle report, with what the register says about its record."""

    rule: str
    event: str
    date: str
    record: str
    kind: str
    detail: str
    name: str
    owner: str | None
    owner_name: str | None
    path: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.record, self.date)

    @property
    def title(self) -> str:
        what = TITLES.get(self.event, self.event.replace("_", " ").capitalize())
        return f"{what} on {self.date}: {self.record}"

    @property
    def labels(self) -> list[str]:
        found = [LABEL, _label("deadline:", self.event), _label("kind:", self.kind)]
        if self.owner:
            found.append(_label("owner:", self.owner))
        return found

    def body(self) -> str:
        """The issue's text: the same for as long as the register says the same (no day count, no run date),
        so an unchanged deadline is never written again."""
        md = escape.markdown
        owner = "none" if self.owner is None else md(self.owner) + (f" ({md(self.owner_name)})" if self.owner_name else "")
        rows = [("Record", f"{md(self.record)} ({md(self.name)})"), ("Kind", md(self.kind)), ("Owner", owner),
                ("Date", md(self.date)), ("What", md(self.detail)), ("Rule", md(self.rule)), ("File", md(self.path))]
        return "\n".join([
            f"<!-- bir-deadline: {self.rule} {self.record} {self.date} -->",
            f"**{md(self.title)}**",
            "",
            "| | |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in rows),
            "",
            "From the register's lifecycle report. This issue is kept by `bir notify github`: it is updated while "
            "the deadline is upcoming and closed when the register no longer shows it. Act on the deadline, then "
            "record the outcome in the record (a pull request), not here.",
        ])


def _label(prefix: str, value: str) -> str:
    """A label of bir's, within GitHub's 50 characters (a long value is cut and given a short hash)."""
    text = prefix + value
    if len(text) <= _MAX_LABEL:
        return text
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    return f"{text[:_MAX_LABEL - 9]}~{digest}"


def deadlines(report: Mapping[str, Any], register: Register) -> list[Deadline]:
    """The deadlines of a lifecycle report (the JSON of `bir report lifecycle --format json`), with the
    name, owner and file of each record from `register`."""
    if report.get("report") != "lifecycle" or not isinstance(report.get("events"), list):
        raise UsageError("not a lifecycle report: give the JSON of `bir report lifecycle --format json`")
    out: list[Deadline] = []
    seen: set[tuple[str, str, str]] = set()
    for event in report["events"]:
        if not isinstance(event, dict) or event.get("category") != "deadline":
            continue
        record_id, rule, date = str(event.get("record", "")), str(event.get("rule", "")), str(event.get("date", ""))
        name, kind = str(event.get("event", "")), str(event.get("kind", ""))
        if not (_ID.match(record_id) and re.fullmatch(r"[a-z0-9_.]+", rule) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)
                and re.fullmatch(r"[a-z_]+", name) and re.fullmatch(r"[a-z_]+", kind)):
            continue  # not a line of bir's report: nothing from it reaches an issue's title or labels
        rec = register.get(record_id)
        owner = rec.owner if rec is not None else None
        owner_rec = register.get(owner) if owner else None
        d = Deadline(rule, name, date, record_id, kind, str(event.get("detail", "")),
                     rec.name if rec is not None else record_id, owner if owner and _ID.match(owner) else None,
                     owner_rec.name if owner_rec is not None else None, rec.path if rec is not None else "")
        if d.key not in seen:
            seen.add(d.key)
            out.append(d)
    return out


# ---- the plan and its execution -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do on GitHub: open, update, reopen or close an issue."""

    verb: str
    title: str
    number: int | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    comment: str | None = None
    deadline: Deadline | None = None


@dataclass(slots=True)
class Outcome:
    deadlines: int
    done: list[tuple[str, int, str]]  # (verb, issue number, title)
    unchanged: int
    kept_open: int  # issues not closed because the register has validation errors


def plan(found: Sequence[Deadline], issues: Iterable[Issue], *, as_of: str, may_close: bool,
         register: Register, ended: Callable[[str], str | None]) -> tuple[list[Step], int, int]:
    """What to do so that the issues show `found`: the steps, the issues already right, and the open issues
    left open because `may_close` is false. `ended(record)` is the record's final state, if it has one."""
    by_key: dict[tuple[str, str, str], list[Issue]] = {}
    for listed in sorted(issues, key=lambda i: i.number):
        key = _key(listed)
        if key is not None:
            by_key.setdefault(key, []).append(listed)
    steps: list[Step] = []
    unchanged = kept = 0
    wanted = {d.key for d in found}
    for d in found:
        body, same = d.body(), by_key.get(d.key, [])
        issue = same[0] if same else None
        if issue is None:
            steps.append(Step("open", d.title, None, {"title": d.title, "body": body, "labels": d.labels}, deadline=d))
            continue
        labels = [x for x in issue.labels if x != LABEL and not x.startswith(_OURS)] + d.labels
        if issue.state == "closed":
            if _closed_by_bir(issue):
                steps.append(Step("reopen", d.title, issue.number, {"state": "open", "title": d.title, "body": body,
                                                                   "labels": labels}, deadline=d))
            else:
                unchanged += 1  # a person closed it: their call
        elif issue.title != d.title or issue.body != body or sorted(issue.labels) != sorted(labels):
            steps.append(Step("update", d.title, issue.number, {"title": d.title, "body": body, "labels": labels}, deadline=d))
        else:
            unchanged += 1
        for extra in same[1:]:  # a second issue for one deadline (two runs at once): folded into the first
            if extra.state == "open":
                steps.append(Step("close", extra.title, extra.number, _closing(extra),
                                  f"A second issue for this deadline; it is followed in #{issue.number}."))
    moved = {(d.rule, d.record): d.date for d in found}
    for key, same in by_key.items():
        if key in wanted:
            continue
        for stale in same:
            if stale.state != "open":
                continue
            if not may_close:
                kept += 1
                continue
            rule, record, date = key
            if (rule, record) in moved:
                why = f"The date moved to {moved[(rule, record)]}; the new date has its own issue."
            elif register.get(record) is None:
                why = f"The record {record} is no longer in the register."
            elif (state := ended(record)) is not None:
                why = f"The record {record} has ended (status {escape.markdown(state)})."
            elif date < as_of:
                why = f"The date ({date}) has passed."
            else:
                why = "The register no longer shows this deadline."
            steps.append(Step("close", stale.title, stale.number, _closing(stale),
                              f"{why} Closed by `bir notify github` as of {as_of}."))
    return steps, unchanged, kept


def _key(issue: Issue) -> tuple[str, str, str] | None:
    """The deadline an issue's marker names (None: not one of these issues)."""
    m = _MARKER.match(issue.body)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def _closed_by_bir(issue: Issue) -> bool:
    return _CLOSED in issue.body


def _closing(issue: Issue) -> dict[str, Any]:
    body = issue.body if _closed_by_bir(issue) else f"{issue.body}\n\n{_CLOSED}"
    return {"state": "closed", "state_reason": "completed", "body": body}


def run(github: GitHub, found: Sequence[Deadline], *, as_of: str, may_close: bool, register: Register,
        ended: Callable[[str], str | None], dry_run: bool = False,
        progress: Callable[[str, int | None, str], None] | None = None) -> Outcome:
    """Bring the repository's deadline issues in line with `found` (with `dry_run`, only say what would be done)."""
    steps, unchanged, kept = plan(found, github.issues(LABEL), as_of=as_of, may_close=may_close, register=register,
                                  ended=ended)
    done: list[tuple[str, int, str]] = []
    for step in steps:
        number = step.number
        if not dry_run:
            if step.verb == "open":
                number = github.create(step.fields["title"], step.fields["body"], step.fields["labels"]).number
            else:
                assert number is not None
                if step.comment:
                    github.comment(number, step.comment)
                github.update(number, **step.fields)
        done.append((step.verb, number or 0, step.title))
        if progress is not None:
            progress(step.verb, number, step.title)
    return Outcome(len(found), done, unchanged, kept)


def notify_github(evaluation: Evaluation, github: GitHub, *, dry_run: bool = False,
                  progress: Callable[[str, int | None, str], None] | None = None) -> Outcome:
    """`bir notify github`: the deadlines of the register's lifecycle report at the evaluation's point, as
    issues of `github`'s repository. Nothing is closed while the register has validation errors."""
    report = as_dict(evaluation.report("lifecycle"))
    register = evaluation.register
    found = deadlines(report, register)
    may_close = not any(p.is_error for p in evaluation.loaded.problems)

    def ended(record: str) -> str | None:
        rec = register.get(record)
        return rec.status if rec is not None and evaluation.context.is_ended(rec) else None

    return run(github, found, as_of=report["as_of"], may_close=may_close, register=register, ended=ended,
               dry_run=dry_run, progress=progress)
