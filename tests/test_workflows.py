"""The GitHub workflows: least privilege, actions pinned by commit, no untrusted text in scripts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

GITHUB = Path(__file__).resolve().parent.parent / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
UNTRUSTED = re.compile(r"\$\{\{[^}]*(github\.event\.(pull_request|issue|comment|review|head_commit|workflow_run)\b|github\.head_ref)")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(wf: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in wf["jobs"].values() for s in job.get("steps", [])]


def test_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["pr-comment.yml", "pr.yml", "publish.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_pinned_and_safe(path: Path) -> None:
    wf = load(path)
    assert "pull_request_target" not in wf["on"]
    for step in steps(wf):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
        if "run" in step:
            assert not UNTRUSTED.search(step["run"]), step["run"]
    for line in path.read_text().splitlines():
        if "uses:" in line:
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_permissions_least_privilege() -> None:
    pr = load(GITHUB / "workflows" / "pr.yml")
    assert pr["permissions"] == {"contents": "read"}
    assert set(pr["on"]) == {"pull_request", "merge_group"}
    assert all(step.get("with", {}).get("fetch-depth", 0) == 0 for step in steps(pr) if "checkout" in step.get("uses", ""))
    comment = load(GITHUB / "workflows" / "pr-comment.yml")
    assert comment["permissions"] == {"pull-requests": "write", "actions": "read"}
    assert list(comment["on"]) == ["workflow_run"]
    assert not any("checkout" in step.get("uses", "") for step in steps(comment))
    assert not any("run" in step for step in steps(comment))
    for job in [*pr["jobs"].values(), *comment["jobs"].values()]:
        assert "permissions" not in job  # no job widens the workflow's permissions


def test_publish_workflow() -> None:
    wf = load(GITHUB / "workflows" / "publish.yml")
    assert wf["on"]["push"] == {"branches": ["main"]}
    assert wf["permissions"] == {"contents": "read"}
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    assert "permissions" not in build  # the job that runs code has a read-only token
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert not any("run" in step for step in deploy["steps"])  # the job with write access runs no code of ours
    uses = [step.get("uses", "").split("@")[0] for step in steps(wf)]
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    assert any(step.get("run") == "bir site build --out _site" for step in build["steps"])


def test_change_step_and_artifact() -> None:
    text = (GITHUB / "workflows" / "pr.yml").read_text()
    assert 'bir change --base "$base" --event "$GITHUB_EVENT_PATH" --format github' in text
    assert "bir validate --format github" in text
    assert "pr-number.txt" in text


def test_codeowners_by_kind() -> None:
    owners = dict(line.split() for line in (GITHUB / "CODEOWNERS").read_text().splitlines() if line and not line.startswith("#"))
    assert owners["/registry/licence/"] == owners["/registry/contract/"] == "@northwind/finance"
    assert owners["/registry/service/"] == "@northwind/service-owners"
    assert owners["/registry/hardware/"] == "@northwind/it-ops"
    assert owners["/schemas/"] == owners["/bir.yaml"] == "@northwind/register-admins"


def test_template_has_every_field() -> None:
    from bir.history.changerecord import FIELDS

    text = (GITHUB / "PULL_REQUEST_TEMPLATE.md").read_text()
    for heading in FIELDS.values():
        assert f"## {heading}\n" in text
