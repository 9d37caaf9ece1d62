"""`bir init`: a new register repository from the templates under `bir/templates/init/`.

The templates are package data, read with importlib.resources, so `bir init` works from an installed
wheel. Files whose name starts with `dot-` are written with a leading `.` instead (`dot-github/` is
`.github/`): packaging tools skip hidden files. The schemas under `templates/init/schemas/` are a copy
of the project's canonical `schemas/`; `tests/test_init.py` fails when the two differ, and
`python -m bir.write.scaffold --sync-schemas` refreshes the copy.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from bir.base.model import KINDS
from bir.base.problems import UsageError

TEMPLATE = ("templates", "init")


def template_root() -> Traversable:
    node = resources.files("bir")
    for part in TEMPLATE:
        node = node / part
    return node


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        name = "." + child.name[4:] if child.name.startswith("dot-") else child.name
        rel = f"{prefix}{name}"
        if child.is_dir():
            out.extend(_walk(child, rel + "/"))
        else:
            out.append((rel, child))
    return out


def vscode_settings() -> str:
    """Editor settings: every record file is checked against its kind's schema as it is typed."""
    schemas = {f"./schemas/{kind}.schema.json": [f"registry/{kind}/*.yaml"] for kind in KINDS}
    schemas["./schemas/config.schema.json"] = ["bir.yaml"]
    settings = {
        "yaml.schemas": schemas,
        "yaml.format.enable": False,
        "files.insertFinalNewline": True,
        "files.trimTrailingWhitespace": True,
        "[yaml]": {"editor.tabSize": 2, "editor.insertSpaces": True},
    }
    return json.dumps(settings, indent=2) + "\n"


def files(name: str) -> dict[str, bytes]:
    """Every file of a new register named `name`: relative path -> content."""
    out: dict[str, bytes] = {}
    for rel, node in _walk(template_root()):
        data = node.read_bytes()
        if rel == "bir.yaml":
            data = data.replace(b"{name}", json.dumps(name, ensure_ascii=False).encode("utf-8"))
        out[rel] = data
    out[".vscode/settings.json"] = vscode_settings().encode("utf-8")
    return dict(sorted(out.items()))


def init(directory: Path, *, name: str | None = None, force: bool = False) -> tuple[list[str], list[str]]:
    """Write a new register into `directory`; returns (files written, existing files kept).

    Refuses a folder that is not empty unless `force`; even then, an existing file is never overwritten.
    """
    from bir.base.atomic import write_bytes

    directory = directory.resolve() if not directory.is_absolute() else directory
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a folder")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UsageError(f"{directory} is not empty; use --force to add the register's files to it "
                         "(existing files are never overwritten)")
    written, kept = [], []
    for rel, data in files(name or directory.name or "register").items():
        target = directory / rel
        if target.exists() or target.is_symlink():
            kept.append(rel)
            continue
        write_bytes(target, data)
        written.append(rel)
    return written, kept


def sync_schemas(source: Path) -> list[str]:
    """Copy the canonical schemas (`source`) into the template (a development task)."""
    target = Path(str(template_root())) / "schemas"
    changed = []
    for path in sorted(source.glob("*.schema.json")):
        data = path.read_bytes()
        dest = target / path.name
        if not dest.is_file() or dest.read_bytes() != data:
            dest.write_bytes(data)
            changed.append(path.name)
    return changed


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:2] == ["--sync-schemas"]:
        src = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("schemas")
        for changed_name in sync_schemas(src):
            print(f"updated {changed_name}")
    else:
        print("usage: python -m bir.write.scaffold --sync-schemas [SCHEMA_DIR]", file=sys.stderr)
        sys.exit(2)
