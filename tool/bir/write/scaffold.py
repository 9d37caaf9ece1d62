"""`bir init`: a new register repository from the templates under `bir/templates/init/`.

The templates are package data, read with importlib.resources, so `bir init` works from an installed
wheel. Files whose name starts with `dot-` are written with a leading `.` instead (`dot-github/` is
`.github/`): packaging tools skip hidden files. The schemas under `templates/init/schemas/` are a copy
of the project's canonical `schemas/`; `tests/test_init.py` fails when the two differ, and
`python -m bir.write.scaffold --sync-schemas` refreshes the copy.
"""

from __future__ import annotations

import json
import re
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


def files(name: str, source: str | None = None) -> dict[str, bytes]:
    """Every file of a new register named `name` whose workflows install bir from `source`."""
    out: dict[str, bytes] = {}
    line, lean = requirement(source).encode("utf-8"), requirement(source, "").encode("utf-8")
    for rel, node in _walk(template_root()):
        data = node.read_bytes()
        if rel == "bir.yaml":
            data = data.replace(b"{name}", json.dumps(name, ensure_ascii=False).encode("utf-8"))
        if rel == ".pre-commit-config.yaml":
            data = data.replace(b'["{bir_requirement}"]', b'["' + lean + b'"]' if source else b"[]  " + lean)
        data = data.replace(b"{bir_requirement}", line)
        out[rel] = data
    out[".vscode/settings.json"] = vscode_settings().encode("utf-8")
    return dict(sorted(out.items()))


_COMMIT = re.compile(r"^git\+https://[^\s@#]+@[0-9a-f]{40}$")
_ARCHIVE = re.compile(r"^https://[^\s#]+\.(whl|tar\.gz)#sha256=[0-9a-f]{64}$")
REQUIREMENTS = ".github/bir-requirements.txt"
UNPINNED = "# bir is not pinned yet"


def check_source(source: str) -> str:
    """A source of bir the workflows may install: an exact git commit, or an archive with its sha256."""
    source = source.strip()
    if _COMMIT.match(source) or _ARCHIVE.match(source):
        return source
    raise UsageError(f"--bir-source '{source}' is not an exact source of bir: give a git commit "
                     "(git+https://github.com/<owner>/bir@<40-hex commit id>) or a release archive with its hash "
                     "(https://.../bir-0.1.0-py3-none-any.whl#sha256=<64 hex>); a name or a tag can change under you")


def known_source() -> str | None:
    """Where the running bir came from, when that is exact: the commit or the hashed archive pip recorded when
    it installed bir (PEP 610 direct_url.json), else the commit of the git checkout it runs from."""
    from importlib import metadata

    try:
        raw = metadata.distribution("bir").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        raw = None
    info = json.loads(raw) if raw else {}
    url = str(info.get("url", ""))
    vcs, archive = info.get("vcs_info") or {}, info.get("archive_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id") and url.startswith("https://"):
        candidate = f"git+{url}@{vcs['commit_id']}"
        return candidate if _COMMIT.match(candidate) else None
    digest = (archive.get("hashes") or {}).get("sha256")
    if digest and url.startswith("https://"):
        candidate = f"{url}#sha256={digest}"
        return candidate if _ARCHIVE.match(candidate) else None
    return _checkout_source()


def _checkout_source() -> str | None:
    """The bir git checkout this code runs from: its origin (https) and HEAD commit, when both are known."""
    from bir.git.plumbing import Git, GitError

    try:
        git = Git(Path(__file__).resolve().parent)
        url, head = git.remote_url("origin"), git.head()
    except (GitError, OSError):
        return None
    if url is None or head is None:
        return None
    if url.startswith("git@github.com:"):
        url = "https://github.com/" + url[len("git@github.com:"):]
    candidate = f"git+{url.removesuffix('/')}@{head}"
    return candidate if _COMMIT.match(candidate) else None


def requirement(source: str | None, extras: str = "[site]") -> str:
    """The requirement line the workflows (with the site) and the pre-commit hook (without) install, or the
    note that there is none."""
    return f"bir{extras} @ {source}" if source else UNPINNED


def pinned(directory: Path) -> bool:
    """Whether the register's workflows can install bir: its requirements file names an exact source."""
    path = directory / REQUIREMENTS
    return path.is_file() and UNPINNED not in path.read_text(encoding="utf-8")


def init(directory: Path, *, name: str | None = None, force: bool = False,
         bir_source: str | None = None) -> tuple[list[str], list[str]]:
    """Write a new register into `directory`; returns (files written, existing files kept).

    Refuses a folder that is not empty unless `force`; even then, an existing file is never overwritten.
    The workflows and the pre-commit hook install bir from `bir_source` (an exact commit or a hashed
    archive), else from where the running bir came when that is exact, never from a bare package name.
    """
    from bir.base.atomic import write_bytes

    directory = directory.resolve() if not directory.is_absolute() else directory
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a folder")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UsageError(f"{directory} is not empty; use --force to add the register's files to it "
                         "(existing files are never overwritten)")
    source = check_source(bir_source) if bir_source is not None else known_source()
    written, kept = [], []
    for rel, data in files(name or directory.name or "register", source).items():
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
