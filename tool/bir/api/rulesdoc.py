"""The rules reference, generated from the rule catalog (`python -m bir.api.rulesdoc`).

Every finding bir can emit names a rule declared in `bir.base.rules.CATALOG`; this page lists them all by
scope, and `tests/test_rulesdoc.py` checks that `site/docs/reference/rules.md` equals this output, so the
documentation cannot drift from the code.
"""

from __future__ import annotations

import importlib
import pkgutil

from bir.base.rules import CATALOG, SCOPES, Rule

# Where rules are declared: every module of these packages is imported before the catalog is read.
_DECLARING = ("bir.read", "bir.check", "bir.point", "bir.history", "bir.reports", "bir.change", "bir.write")


def catalog() -> dict[str, Rule]:
    """Every rule the tool can emit (importing each module that may declare one)."""
    for name in _DECLARING:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            importlib.import_module(info.name)
    return dict(CATALOG)


def render() -> str:
    rules = catalog()
    lines = [
        "# Rules",
        "",
        "Every problem, finding, event and figure bir reports names one of these rules. This page is",
        "generated from the rules themselves (`python -m bir.api.rulesdoc`).",
        "",
        "Severities: `error` fails `bir validate` and `bir change`; `warning` fails them with `--strict`;",
        "risk findings are `high`, `medium` or `low`; events and figures are `info`.",
        "",
    ]
    for scope, title in SCOPES.items():
        members = sorted((r for r in rules.values() if r.scope == scope), key=lambda r: r.id)
        if not members:
            continue
        lines += [f"## {title}", ""]
        for rule in members:
            lines += [f"### `{rule.id}`", "", f"*{rule.severity}*: {rule.summary}.", ""]
            text = rule.text()
            if text and text.rstrip(".") != rule.summary:
                for para in text.split("\n\n"):
                    lines += [" ".join(para.split()), ""]
            passes, fails = rule.examples()
            if passes or fails:
                lines += [f"- **Passes**: {passes}", f"- **Fails**: {fails}", ""]
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["catalog", "render"]

if __name__ == "__main__":
    print(render(), end="")
