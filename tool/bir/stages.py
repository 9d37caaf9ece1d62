"""The stages of bir, in the order data flows through them. A module imports only from its own stage and
the stages before it (`tests/test_imports.py` checks every import against this list).

- `base`: values every stage shares: problems, the record model, the register's layout, rules as data,
  money and text escaping, atomic files.
- `read`: from bytes to values: strict YAML, JSON Schemas, the configuration, record files, lifecycle feeds.
- `check`: validation rules, the checker that runs them over files, and the reporters of problems.
- `git`: all git access (plumbing) and the working tree seen through git.
- `cache`: every cache behind one interface (sealed files, named entries); the cached validation.
- `point`: the register at one point (the working tree, a commit, the end of a day), resolved once.
- `history`: the audit trail (each record's history, the change log) and the change record.
- `reports`: the asset-management models: every figure defined once (lifecycle, cost, risk, licences...).
- `change`: a pull request as a CHM change: what it changes, which policy it breaks, its impact.
- `write`: commands that write: authoring, import, export, reconciliation, feeds, new registers.
- `site`: the published register, rendered from the report models.
- `api`: the library's entry points, one per command, and the generated references.
- `cli`: the thin command line over `api`.
"""

from __future__ import annotations

STAGES: tuple[str, ...] = (
    "base", "read", "check", "git", "cache", "point", "history", "reports", "change", "write", "site", "api", "cli",
)
