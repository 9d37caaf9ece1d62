"""The asset-management engine: lifecycle, cost, risk, licence and decision reports, and the operational
reports (assignments, audits, maintenance, vulnerabilities, budget), as data.

`evaluate(point)` loads the register at a point and computes its reports over one shared context (every
command and the site use it, so they see the same figures); `build_report(name, register, as_of)` computes
one report of a register in hand. Report models are in `models.py`; `render.py` formats them.

These names live in `bir.reports.evaluation` and are imported from there when first asked for: a command
that needs a few models (`bir change` reads the risk and licence models through `bir.reports.context`) does
not import every report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bir.reports.evaluation import REPORTS, Evaluation, all_reports, build_report, evaluate
    from bir.reports.opsmodels import AnyReport as Report

__all__ = ["REPORTS", "Evaluation", "Report", "all_reports", "build_report", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bir.reports import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'bir.reports' has no attribute {name!r}")
