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


TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "tool/bir/templates/init/dot-github/workflows").glob("*.yml"))
TEMPLATE = {p.name: p for p in TEMPLATES}
LOCK = yaml.safe_load((GITHUB / "actions-lock.yml").read_text())["actions"]
USES = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w.-]+)(?:/[\w.-]+)*@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")


def test_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["deadlines.yml", "pr-comment.yml", "pr.yml", "publish.yml"]
    assert [p.name for p in TEMPLATES] == ["deadlines.yml", "pr-comment.yml", "pr.yml", "publish.yml"]


@pytest.mark.parametrize("path", WORKFLOWS + TEMPLATES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_action_is_pinned_to_the_lock_table(path: Path) -> None:
    """Each `uses:` names an action of .github/actions-lock.yml, at its commit, with its version in the comment."""
    seen = 0
    for line in path.read_text().splitlines():
        if "uses:" not in line:
            continue
        m = USES.match(line)
        assert m, f"{path.name}: not pinned by a full commit id with its version: {line.strip()}"
        action, commit, version = m.groups()
        assert LOCK.get(action) == {"version": version, "commit": commit}, f"{path.name}: {action} differs from the lock table"
        seen += 1
    assert seen >= 2


def test_the_lock_table_is_used_and_well_formed() -> None:
    used = {USES.match(line).group(1) for p in WORKFLOWS + TEMPLATES for line in p.read_text().splitlines()  # type: ignore[union-attr]
            if USES.match(line)}
    assert used == set(LOCK)
    assert all(re.fullmatch(r"[0-9a-f]{40}", v["commit"]) and re.fullmatch(r"v\d+\.\d+\.\d+", v["version"]) for v in LOCK.values())


@pytest.mark.parametrize("path", WORKFLOWS + TEMPLATES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_pinned_and_safe(path: Path) -> None:
    wf = load(path)
    assert "pull_request_target" not in wf["on"]
    for step in steps(wf):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
        if "run" in step:
            assert not UNTRUSTED.search(step["run"]), step["run"]


@pytest.mark.parametrize("path", [GITHUB / "workflows" / "pr.yml", TEMPLATE["pr.yml"]], ids=["project", "template"])
def test_the_base_branch_judges_the_pull_request(path: Path) -> None:
    """The checker is installed from the base branch's checkout, and bir runs on the change's checkout."""
    pr = load(path)
    assert pr["permissions"] == {"contents": "read"}
    assert set(pr["on"]) == {"pull_request", "merge_group"}
    check = pr["jobs"]["check"]["steps"]
    checkouts = [s for s in check if "checkout" in s.get("uses", "")]
    assert [c["with"]["path"] for c in checkouts] == ["change", "trusted"]
    assert checkouts[0]["with"]["fetch-depth"] == 0 and all(c["with"]["persist-credentials"] is False for c in checkouts)
    assert checkouts[1]["with"]["ref"] == "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}"
    install = next(s for s in check if s.get("name", "").startswith("Install"))
    assert "trusted" in install["run"] and "pip install" in install["run"]
    assert "pip install ." not in install["run"].replace("./trusted", "") and "BIR_PACKAGE" not in path.read_text()
    runs = [s for s in check if "bir validate" in s.get("run", "") or "bir change" in s.get("run", "")]
    assert runs and all(s.get("working-directory") == "change" for s in runs)
    change = next(s for s in check if "bir change" in s.get("run", ""))
    assert 'bir change --base "$BASE_SHA" --event "$GITHUB_EVENT_PATH" --format github' in change["run"]
    assert change["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}"
    assert "pr-number.txt" in path.read_text()
    for job in pr["jobs"].values():
        assert "permissions" not in job  # no job widens the workflow's permissions


def test_the_template_installs_only_an_exact_bir() -> None:
    text = "".join(TEMPLATE[name].read_text() for name in ("pr.yml", "publish.yml", "deadlines.yml"))
    assert text.count("grep -Eq '^bir(\\[site\\])? @ '") == 3 and "bir-requirements.txt" in text
    assert "pip install bir" not in text and "pip install \"$BIR" not in text


def test_comment_workflow() -> None:
    comment = load(GITHUB / "workflows" / "pr-comment.yml")
    assert comment["permissions"] == {"pull-requests": "write", "actions": "read"}
    assert list(comment["on"]) == ["workflow_run"]
    assert comment["concurrency"]["cancel-in-progress"] is False and "head_branch" in comment["concurrency"]["group"]
    assert not any("checkout" in step.get("uses", "") for step in steps(comment))
    assert not any("run" in step for step in steps(comment))
    script = next(s for s in steps(comment) if "github-script" in s.get("uses", ""))["with"]["script"]
    assert "c.user.login === 'github-actions[bot]'" in script and "c.body.startsWith(marker)" in script
    assert "pr.head.sha !== context.payload.workflow_run.head_sha" in script


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
    assert any(step.get("run") == 'python -m pip install ".[site]"' for step in build["steps"])


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


@pytest.mark.parametrize("path", [GITHUB / "workflows" / "deadlines.yml", TEMPLATE["deadlines.yml"]],
                         ids=["project", "template"])
def test_deadlines_workflow(path: Path) -> None:
    """Scheduled (and by hand), allowed to write issues and nothing else, one run at a time, bir installed as
    the other workflows install it, the token passed through the environment."""
    wf = load(path)
    assert set(wf["on"]) == {"schedule", "workflow_dispatch"}
    (cron,) = wf["on"]["schedule"]
    assert re.fullmatch(r"\d{1,2} \d{1,2} \* \* \*", cron["cron"])
    assert wf["permissions"] == {"issues": "write", "contents": "read"}
    assert wf["concurrency"] == {"group": "deadlines", "cancel-in-progress": False}
    (job,) = wf["jobs"].values()
    assert "permissions" not in job
    checkout = next(s for s in job["steps"] if "checkout" in s.get("uses", ""))
    assert checkout["with"]["persist-credentials"] is False
    install = next(s for s in job["steps"] if s.get("name", "").startswith("Install"))
    if path.parent.parent.name == ".github":
        assert install["run"] == "python -m pip install ."
    else:
        assert "python -m pip install -r .github/bir-requirements.txt" in install["run"]
        assert "grep -Eq '^bir(\\[site\\])? @ ' .github/bir-requirements.txt" in install["run"]
    notify = next(s for s in job["steps"] if "bir notify" in s.get("run", ""))
    assert notify["run"] == "bir notify github"
    assert notify["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
    assert "secrets." not in path.read_text()


BASE_SHA = "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}"
SHARED_PATH = "${{ runner.temp }}/bir-shared/results"


@pytest.mark.parametrize("path", [GITHUB / "workflows" / "pr.yml", TEMPLATE["pr.yml"]], ids=["project", "template"])
def test_the_pull_request_only_restores_main_s_signed_verdicts(path: Path) -> None:
    """The check restores the cache main saved, saves nothing, keeps its own cache apart, and trusts only the
    base branch's public key (not the pull request's)."""
    check = load(path)["jobs"]["check"]["steps"]
    caches = [s for s in check if s.get("uses", "").startswith("actions/cache")]
    assert [s["uses"].split("@")[0] for s in caches] == ["actions/cache/restore"]
    assert caches[0]["with"] == {"path": SHARED_PATH, "key": f"bir-results-{BASE_SHA}", "restore-keys": "bir-results-"}
    names = [s.get("name") for s in check]
    assert names.index(caches[0]["name"]) < names.index("Validate the register and check the change")
    runs = [s for s in check if "bir validate" in s.get("run", "") or "bir change" in s.get("run", "")]
    assert len(runs) == 1 and "bir validate" not in runs[0]["run"]  # bir change validates the whole register itself
    for step in runs:
        env = step["env"]
        assert env["BIR_CACHE_DIR"] == "${{ runner.temp }}/bir-own"
        assert env["BIR_CACHE_SHARED"] == "${{ runner.temp }}/bir-shared"
        assert env["BIR_CACHE_TRUSTED_KEY"] == "${{ github.workspace }}/trusted/.github/bir-cache.pub"
        assert "BIR_CACHE_SIGNING_KEY" not in env
    assert "secrets." not in path.read_text()  # nothing a pull request's run could sign with


@pytest.mark.parametrize("path", [GITHUB / "workflows" / "publish.yml", TEMPLATE["publish.yml"]], ids=["project", "template"])
def test_main_signs_and_saves_the_verdicts(path: Path) -> None:
    build = load(path)["jobs"]["build"]
    assert build["environment"] == "bir-cache"  # the signing secret lives in an environment limited to main
    steps = build["steps"]
    kinds = [s["uses"].split("@")[0] for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert kinds == ["actions/cache/restore", "actions/cache/save"]
    restore, save = (s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert restore["with"]["path"] == save["with"]["path"] == SHARED_PATH  # one path: actions/cache versions by it
    assert save["with"]["key"] == "bir-results-${{ github.sha }}" and restore["with"]["restore-keys"] == "bir-results-"
    runs = [s for s in steps if s.get("run", "").startswith("bir ")]
    assert [s["run"].split()[1] for s in runs] == ["validate", "site"]
    for step in runs:
        assert step["env"]["BIR_CACHE_SIGNING_KEY"] == "${{ secrets.BIR_CACHE_SIGNING_KEY }}"
        assert step["env"]["BIR_CACHE_DIR"] == step["env"]["BIR_CACHE_SHARED"] == "${{ runner.temp }}/bir-shared"
    names = [s.get("name") for s in steps]
    assert names.index(restore["name"]) < names.index("Validate the register") < names.index(save["name"])
