"""The house shows the flow: every module belongs to a stage, and imports only from its own stage and the
stages before it (the order is `bir.stages.STAGES`); no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

from bir.stages import STAGES

PACKAGE = Path(__file__).resolve().parent.parent / "tool" / "bir"
TOP_LEVEL = {"bir", "bir.__main__", "bir.stages"}  # the package itself: its version, `python -m bir`, this list


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every bir module `name` imports, wherever the import statement is (type-checking blocks included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            if target in MODULES:
                found.add(target)
    found.discard(name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_every_module_is_in_a_stage() -> None:
    assert [m for m in MODULES if m not in TOP_LEVEL and stage_of(m) is None] == []
    assert sorted({stage_of(m) for m in MODULES} - {None}) == sorted(STAGES), "a stage without a folder, or the reverse"


def test_imports_point_to_earlier_stages_only() -> None:
    order = {s: i for i, s in enumerate(STAGES)}
    wrong = []
    for module, targets in GRAPH.items():
        own = stage_of(module)
        if own is None:
            continue
        for target in sorted(targets):
            theirs = stage_of(target)
            if theirs is not None and order[theirs] > order[own]:
                wrong.append(f"{module} ({own}) imports {target} ({theirs})")
    assert wrong == []


def test_no_import_cycles_between_modules() -> None:
    # A package's __init__ importing its own modules (a registry of rules, say) is not a cycle of the design.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in GRAPH.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif not state.get(nxt):
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(edges):
        if not state.get(module):
            visit(module, [module])
    assert cycles == []


def test_the_change_check_imports_only_the_reports_it_reads() -> None:
    """`bir change` reads the risk and licence models through `bir.reports.context`: the package's names
    (`evaluate`, `REPORTS`...) are imported when first asked for, so the other reports stay unloaded, and
    asking for one still gives it."""
    import subprocess
    import sys

    code = ("import sys, bir.change.compute, bir.change.render\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('bir.reports'))))\n"
            "from bir.reports import REPORTS, evaluate\n"
            "print(len(REPORTS), evaluate.__module__, 'bir.reports.assignments' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout.splitlines()
    assert out == [" ".join(["bir.reports", "bir.reports.context", "bir.reports.decisions", "bir.reports.depreciation",
                             "bir.reports.graph", "bir.reports.licences", "bir.reports.models", "bir.reports.money",
                             "bir.reports.plan", "bir.reports.risk"]),
                   "10 bir.reports.evaluation True"]
