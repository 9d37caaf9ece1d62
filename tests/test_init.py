"""`bir init`: a new register that validates clean, never written over an existing one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bir.base.model import KINDS
from bir.write.scaffold import template_root
from support import PROJECT, run, snapshot, validate_clean

SOURCE = "git+https://github.com/northwind/bir@" + "0123456789abcdef" * 2 + "01234567"


EXPECTED = [
    ".github/CODEOWNERS", ".github/PULL_REQUEST_TEMPLATE.md", ".github/bir-requirements.txt",
    ".github/workflows/deadlines.yml", ".github/workflows/pr-comment.yml", ".github/workflows/pr.yml",
    ".github/workflows/publish.yml",
    ".gitignore", ".pre-commit-config.yaml", ".vscode/settings.json", "bir.yaml",
    "registry/facility/fac-main-office.yaml", "registry/hardware/hw-1.yaml", "registry/party/example-supplier.yaml",
    "registry/party/team-it.yaml", "registry/service/svc-workplace.yaml",
    *sorted(f"schemas/{p.name}" for p in (PROJECT / "schemas").glob("*.schema.json")),
]


def test_init_writes_a_register_that_validates_clean(tmp_path: Path) -> None:
    target = tmp_path / "acme-register"
    code, out, err = run("init", str(target), "--bir-source", SOURCE)
    assert (code, err) == (0, "")
    assert out.splitlines()[:-1] == [f"created {p}" for p in EXPECTED]
    assert sorted(snapshot(target)) == sorted(EXPECTED)
    assert 'name: "acme-register"' in (target / "bir.yaml").read_text()
    assert validate_clean(target) == []
    code, out, _ = run("validate", str(target), "--no-cache")
    assert (code, out) == (0, "5 records (facility 1, hardware 1, party 2, service 1): clean\n")


def test_packaged_schemas_are_the_canonical_ones() -> None:
    """The schemas `bir init` copies are package data; refresh them with `python -m bir.write.scaffold --sync-schemas`."""
    packaged = Path(str(template_root())) / "schemas"
    canonical = {p.name: p.read_bytes() for p in (PROJECT / "schemas").glob("*.schema.json")}
    assert {p.name: p.read_bytes() for p in packaged.glob("*.schema.json")} == canonical


def test_configuration_is_the_projects() -> None:
    """The new register starts from the project's bir.yaml, with its own name, no repository URL and none of
    the demo's redundancy groups, cost-centre books or replacement prices."""
    import re

    project = (PROJECT / "bir.yaml").read_text()
    project = re.sub(r"^# Records that share a redundancy_group.*\n# .*\nredundancy:\n(?:  .*\n)+", "", project, count=1,
                     flags=re.M)
    project = re.sub(r"^  # Books of a cost centre.*\n  by_cost_centre:\n(?:    .*\n)+", "", project, count=1, flags=re.M)
    project = re.sub(r"^# Replacement prices, dated.*\n# .*\ncatalogue:\n(?:  .*\n)+", "", project, count=1, flags=re.M)
    expected = re.sub(r"^repository_url: .*\n", "", re.sub(r"^name: .*$", "name: {name}", project, count=1, flags=re.M),
                      count=1, flags=re.M)
    assert (Path(str(template_root())) / "bir.yaml").read_text() == expected


def test_editor_settings_map_every_kind_to_its_schema(tmp_path: Path) -> None:
    from bir.write.scaffold import init

    init(tmp_path / "r")
    settings = json.loads((tmp_path / "r/.vscode/settings.json").read_text())
    assert settings["yaml.schemas"] == {**{f"./schemas/{k}.schema.json": [f"registry/{k}/*.yaml"] for k in KINDS},
                                        "./schemas/config.schema.json": ["bir.yaml"]}


def test_workflows_are_the_projects(tmp_path: Path) -> None:
    """The new register runs the project's own workflows; only where bir is installed from differs (a register
    has no tool to test), and it installs exactly the bir its base branch pins."""
    from bir.write.scaffold import init

    init(tmp_path / "r", bir_source=SOURCE)
    for name in ("pr.yml", "pr-comment.yml", "publish.yml", "deadlines.yml"):
        project = PROJECT / ".github/workflows" / name
        if not project.is_file():
            pytest.skip("the project's workflows are not there")
        ours = yaml.safe_load((tmp_path / "r/.github/workflows" / name).read_text())
        theirs = yaml.safe_load(project.read_text())
        theirs["jobs"].pop("tool", None)  # the tool's own tests
        for doc in (ours, theirs):
            for job in doc["jobs"].values():
                job["steps"] = [s for s in job["steps"] if not s.get("name", "").startswith("Install")]
        assert ours == theirs, name
    requirements = (tmp_path / "r/.github/bir-requirements.txt").read_text()
    assert requirements.splitlines()[-1] == f"bir[site] @ {SOURCE}"
    hook = yaml.safe_load((tmp_path / "r/.pre-commit-config.yaml").read_text())["repos"][0]["hooks"][0]
    assert hook["additional_dependencies"] == [f"bir @ {SOURCE}"] and hook["language"] == "python"
    template = (tmp_path / "r/.github/PULL_REQUEST_TEMPLATE.md").read_text()
    assert template == (PROJECT / ".github/PULL_REQUEST_TEMPLATE.md").read_text()


@pytest.mark.parametrize("source", ["bir", "bir==0.1.0", "git+https://github.com/x/bir@v0.1.0",
                                    "https://example.org/bir-0.1.0-py3-none-any.whl", "git+https://x/bir@main"])
def test_init_refuses_a_source_that_can_change(tmp_path: Path, source: str) -> None:
    from bir.base.problems import UsageError
    from bir.write.scaffold import init

    with pytest.raises(UsageError, match="is not an exact source of bir"):
        init(tmp_path / "r", bir_source=source)
    assert not (tmp_path / "r").exists()


def test_init_without_a_known_source_writes_no_name_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bir.write import scaffold

    monkeypatch.setattr(scaffold, "known_source", lambda: None)
    scaffold.init(tmp_path / "r")
    requirements = (tmp_path / "r/.github/bir-requirements.txt").read_text()
    assert [line for line in requirements.splitlines() if not line.startswith("#")] == []
    assert "additional_dependencies: []" in (tmp_path / "r/.pre-commit-config.yaml").read_text()


def test_pre_commit_runs_bir_validate(tmp_path: Path) -> None:
    from bir.write.scaffold import init

    init(tmp_path / "r")
    hooks = yaml.safe_load((tmp_path / "r/.pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert hooks[0]["id"] == "bir-validate" and hooks[0]["entry"] == "bir validate" and hooks[0]["pass_filenames"] is False


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "existing"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    before = snapshot(target)
    code, _, err = run("init", str(target))
    assert code == 2 and "is not empty; use --force" in err
    assert snapshot(target) == before


def test_init_force_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "existing"
    target.mkdir()
    (target / "bir.yaml").write_text("mine\n")
    (target / ".github").mkdir()
    (target / ".github/CODEOWNERS").write_text("* @me\n")
    code, out, _ = run("init", str(target), "--force")
    assert code == 0
    assert "kept existing .github/CODEOWNERS\nkept existing bir.yaml\n" in out
    assert (target / "bir.yaml").read_text() == "mine\n" and (target / ".github/CODEOWNERS").read_text() == "* @me\n"
    assert (target / "registry/hardware/hw-1.yaml").is_file()


def test_pre_commit_hooks_file_of_the_project() -> None:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    assert hooks == [{
        "id": "bir-validate", "name": "bir validate",
        "description": "Validate the register: strict YAML, schemas, lifecycle and the rules across records.",
        "entry": "bir validate", "language": "python", "pass_filenames": False,
        "files": r"^(registry/|schemas/|bir\.yaml)",
    }]
