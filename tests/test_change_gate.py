"""The change gate holds: each way a pull request could pass CHM by mistake or by design, on a real repository.

Every case commits a base register, makes the change (as a reviewer or an attacker would) and runs
`bir change` as CI does; the expected rule ids and exit codes are exact.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from support import NOT_IN_CI, RECORDS, commit, git, make_register, run

TODAY = "2026-06-01"


def hardware(rid: str, **extra: object) -> str:
    base = {"id": rid, "kind": "hardware", "name": rid, "owner": "team-ops", "status": "in_use",
            "status_dates": {"in_stock": "2024-01-10", "in_use": "2024-02-01"}, "class": "server",
            "last_verified": "2026-03-01"}
    base.update(extra)  # type: ignore[arg-type]
    return yaml.safe_dump(base, sort_keys=False)


GATE_RECORDS = {
    **RECORDS,
    # a critical service on two redundant application servers
    "service/svc-crit.yaml": yaml.safe_dump({"id": "svc-crit", "kind": "service", "name": "Critical", "owner": "team-ops",
                                             "status": "active", "status_dates": {"active": "2024-01-01"},
                                             "criticality": "critical", "last_verified": "2026-03-01"}),
    "hardware/app-01.yaml": hardware("app-01", redundancy_group="crit-app", warranty_end="2029-01-01",
                                     relations=[{"type": "supports", "target": "svc-crit"}]),
    "hardware/app-02.yaml": hardware("app-02", redundancy_group="crit-app", warranty_end="2029-01-01",
                                     relations=[{"type": "supports", "target": "svc-crit"}]),
    # a pool of three laptops serving the workplace (minimum 2 in bir.yaml below)
    **{f"hardware/lt-{n}.yaml": hardware(f"lt-{n}", **{"class": "laptop"}, redundancy_group="laptops",
                                         relations=[{"type": "supports", "target": "svc-work"}]) for n in (1, 2, 3)},
    "service/svc-work.yaml": yaml.safe_dump({"id": "svc-work", "kind": "service", "name": "Workplace", "owner": "team-ops",
                                             "status": "active", "status_dates": {"active": "2024-01-01"},
                                             "criticality": "medium", "last_verified": "2026-03-01"}),
    # a per-device licence for two servers, both in use
    "licence/lic-os.yaml": yaml.safe_dump({"id": "lic-os", "kind": "licence", "name": "Server OS", "owner": "team-ops",
                                           "status": "active", "status_dates": {"active": "2024-01-01"}, "metric": "per_device",
                                           "quantity": 2, "true_up_unit_cost": 1500.0, "product": "ServerOS"}),
}


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_register(tmp_path_factory.mktemp("gate") / "reg", records=GATE_RECORDS, git_init=True)
    config = repo / "bir.yaml"
    text = config.read_text()
    assert "redundancy:\n  groups:\n" in text
    config.write_text(text.replace("redundancy:\n  groups:\n", "redundancy:\n  groups:\n    laptops: {minimum: 2}\n", 1))
    for rid in ("app-01", "app-02"):
        path = repo / "registry" / "hardware" / f"{rid}.yaml"
        data = yaml.safe_load(path.read_text())
        data["relations"].append({"type": "licensed_by", "target": "lic-os"})
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    commit(repo, "Initial register", date="2026-01-05T10:00:00+00:00")
    return repo


@pytest.fixture
def repo(base_repo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "reg"
    shutil.copytree(base_repo, target, symlinks=True)
    return target


def change(repo: Path, *args: str) -> tuple[int, dict[str, object], str]:
    """`bir change --base ... --format json` as a user runs it: exit code, the report, stdout and stderr."""
    code, out, err = run("change", "--root", repo, *args, env=NOT_IN_CI)
    try:
        report = json.loads(out) if "--format" in args and "json" in args else {}
    except ValueError:
        report = {}
    return code, report, out + err


def rules(report: dict[str, object]) -> list[str]:
    problems = [*report["violations"], *report["head_problems"], *report["base_rule_problems"]]  # type: ignore[misc]
    return sorted(p["rule"] for p in problems if p["severity"] == "error")  # type: ignore[index]


def edit(repo: Path, rel: str, **fields: object) -> None:
    path = repo / "registry" / rel
    data = yaml.safe_load(path.read_text())
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# -- deletion by emptying ------------------------------------------------------------------------------
@pytest.mark.parametrize("content", ["~\n", "null\n", "---\n", "", "- a list\n"])
def test_an_emptied_record_is_a_removal(repo: Path, content: str) -> None:
    (repo / "registry/hardware/srv-02.yaml").write_text(content)
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 1
    assert "change.removed" in rules(report)
    removed = [r for r in report["records"] if r["id"] == "srv-02"]  # type: ignore[attr-defined]
    assert [(r["change"], r["emptied"]) for r in removed] == [("removed", True)]
    from bir.api import validate

    problems = validate(repo, use_cache=False).problems
    assert [(p.path, p.rule) for p in problems if p.is_error] == [
        ("registry/hardware/srv-02.yaml", "schema.type" if content == "- a list\n" else "yaml.empty")]


# -- the merge base, not the tip of the base branch ----------------------------------------------------
def test_a_branch_behind_main_is_compared_with_its_merge_base(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo, "hardware/srv-01.yaml", name="Server One")
    commit(repo, "Rename srv-01", date="2026-02-01T10:00:00+00:00")
    git(repo, "checkout", "-q", "main")
    edit(repo, "party/acme.yaml", name="Acme Supplies Ltd")  # merged by someone else meanwhile
    commit(repo, "Acme's legal name (#7)", date="2026-02-02T10:00:00+00:00")
    git(repo, "checkout", "-q", "feature")
    code, report, _ = change(repo, "--base", "main", "--format", "json")
    assert code == 0
    assert [(r["change"], r["id"]) for r in report["records"]] == [("modified", "srv-01")]  # type: ignore[attr-defined]
    assert report["base"] != report["base_tip"] and report["base_ref"] == "main"
    _code, _report, text = change(repo, "--base", "main")
    assert "compared the working tree with the merge base" in text and "changes merged there since are not this change's" in text


# -- the base's rules judge the head -------------------------------------------------------------------
def test_relaxing_the_rules_in_the_same_change_does_not_pass(repo: Path) -> None:
    config = repo / "bir.yaml"
    text = config.read_text()
    relaxed = text.replace("      in_use: [in_maintenance, in_stock, retired, lost, stolen]",
                           "      in_use: [in_maintenance, in_stock, retired, disposed, lost, stolen]")
    relaxed = relaxed.replace("        - {field: sanitisation.certificate, when: {data_bearing: true}}\n", "")
    assert relaxed != text
    config.write_text(relaxed)
    edit(repo, "hardware/srv-01.yaml", status="disposed", status_dates={"in_stock": "2024-01-10", "in_use": "2024-02-01",
                                                                         "disposed": "2026-05-01"},
         disposal={"method": "recycled", "date": "2026-05-01"}, sanitisation={"method": "purge", "date": "2026-04-30"})
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 1
    found = rules(report)
    assert "change.transition" in found and "change.requires" in found  # by the base's lifecycle model
    assert [p["rule"] for p in report["base_rule_problems"]] == ["lifecycle.requires"]  # type: ignore[index,union-attr]
    assert [f["path"] for f in report["rules"]["files"]] == ["bir.yaml"]  # type: ignore[index]
    assert {c["path"] for c in report["rules"]["config"]} == {  # type: ignore[index]
        "lifecycle_models.physical.transitions.in_use", "lifecycle_models.physical.requires.disposed"}


def test_a_schema_replaced_by_anything_goes_is_a_rules_change_and_the_base_schema_holds(repo: Path) -> None:
    (repo / "schemas/hardware.schema.json").write_text('{"type": "object"}\n')
    edit(repo, "hardware/srv-02.yaml", owner=None, colour="purple")
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 1
    assert sorted(p["rule"] for p in report["base_rule_problems"]) == [  # type: ignore[union-attr,index]
        "schema.required", "schema.unknown-field"]
    assert report["rules"]["schemas"]["schemas/hardware.schema.json"]  # type: ignore[index]


def test_rules_alone_setting_keeps_rules_changes_apart(repo: Path) -> None:
    config = repo / "bir.yaml"
    config.write_text(config.read_text().replace("change:\n", "change:\n  rules_alone: true\n", 1))
    commit(repo, "Rules changes come alone", date="2026-02-01T10:00:00+00:00")
    config.write_text(config.read_text().replace("verification_period_days: 365", "verification_period_days: 400"))
    edit(repo, "hardware/srv-01.yaml", name="Server One")
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 1 and rules(report) == ["change.rules-alone"]
    git(repo, "checkout", "--", "registry/hardware/srv-01.yaml")
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 0 and report["rules"]["config"] == [  # type: ignore[index]
        {"path": "reports.verification_period_days", "old": 365, "new": 400}]


# -- normal changes pass --------------------------------------------------------------------------------
def test_retire_and_dispose_in_one_change_shows_the_path(repo: Path) -> None:
    edit(repo, "hardware/lt-1.yaml", status="disposed",
         status_dates={"in_stock": "2024-01-10", "in_use": "2024-02-01", "retired": "2026-04-01", "disposed": "2026-05-01"},
         retirement={"reason": "end of life"}, disposal={"method": "recycled", "date": "2026-05-01"},
         sanitisation={"method": "purge", "date": "2026-04-20", "certificate": "CERT-1"})
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert (code, rules(report)) == (0, [])
    [rec] = report["records"]  # type: ignore[misc]
    assert rec["path_taken"] == ["in_use", "retired", "disposed"]


def test_skipping_a_state_without_its_date_is_refused(repo: Path) -> None:
    edit(repo, "hardware/lt-1.yaml", status="disposed",
         status_dates={"in_stock": "2024-01-10", "in_use": "2024-02-01", "disposed": "2026-05-01"},
         retirement={"reason": "end of life"}, disposal={"method": "recycled", "date": "2026-05-01"},
         sanitisation={"method": "purge", "date": "2026-04-20", "certificate": "CERT-1"})
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 1 and "change.transition" in rules(report)


def test_retiring_a_pool_member_is_fine_while_the_minimum_serves(repo: Path) -> None:
    retired = {"status": "retired", "retirement": {"reason": "replaced"},
               "status_dates": {"in_stock": "2024-01-10", "in_use": "2024-02-01", "retired": "2026-05-01"}}
    edit(repo, "hardware/lt-1.yaml", **retired)
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert (code, rules(report)) == (0, [])
    edit(repo, "hardware/lt-2.yaml", **retired)  # only lt-3 left: the group's minimum is 2
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 1 and rules(report) == ["change.retire-in-use", "change.retire-in-use"]


# -- impact over the neighbourhood -----------------------------------------------------------------------
def test_losing_a_redundant_peer_is_a_new_single_point_of_failure(repo: Path) -> None:
    edit(repo, "hardware/app-02.yaml", status="in_maintenance",
         status_dates={"in_stock": "2024-01-10", "in_use": "2024-02-01", "in_maintenance": "2026-05-01"})
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 0  # in maintenance is still in service: nothing changes
    edit(repo, "hardware/app-02.yaml", status="in_stock",
         status_dates={"in_stock": "2026-05-01", "in_use": "2024-02-01"})
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    impact = report["impact"]
    assert impact["single_points_of_failure_introduced"] == [{"service": "svc-crit", "record": "app-01"}]  # type: ignore[index]
    assert [(r["rule"], r["record"], r["severity"]) for r in impact["risks_introduced"]] == [  # type: ignore[index]
        ("service.single_point_of_failure", "svc-crit", "high")]
    assert code == 1 and rules(report) == ["change.new-risk"]


def test_licensing_one_more_server_shows_the_true_up(repo: Path) -> None:
    edit(repo, "hardware/srv-01.yaml", relations=[{"type": "licensed_by", "target": "lic-os"}])
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    impact = report["impact"]
    assert impact["licences"] == [{  # type: ignore[index]
        "licence": "lic-os", "metric": "per_device", "quantity_before": 2, "quantity_after": 2, "consumption_before": 2,
        "consumption_after": 3, "true_up_before": "0.00", "true_up_after": "1500.00", "true_up_delta": "1500.00"}]
    assert impact["true_up_delta"] == "1500.00"  # type: ignore[index]
    assert code == 1 and rules(report) == ["change.new-risk"]
    assert ("licence.over_deployed", "lic-os") in [(r["rule"], r["record"]) for r in impact["risks_introduced"]]  # type: ignore[index]


def test_a_waiver_in_the_same_change_accepts_the_risk(repo: Path) -> None:
    edit(repo, "hardware/srv-01.yaml", relations=[{"type": "licensed_by", "target": "lic-os"}])
    (repo / "registry/waiver").mkdir()
    (repo / "registry/waiver/wvr-os.yaml").write_text(yaml.safe_dump({
        "id": "wvr-os", "kind": "waiver", "name": "True-up at renewal", "owner": "team-ops", "status": "active",
        "status_dates": {"active": "2026-05-01"}, "rule": "licence.over_deployed", "record": "lic-os",
        "reason": "buy at the renewal in June", "approver": "team-ops", "expires": "2027-07-01"}))
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert (code, rules(report)) == (0, [])



def waiver(wid: str, record: str, rule: str = "licence.over_deployed", expires: str = "2027-07-01") -> str:
    return yaml.safe_dump({"id": wid, "kind": "waiver", "name": f"Waiver {wid}", "owner": "team-ops", "status": "active",
                           "status_dates": {"active": "2026-05-01"}, "rule": rule, "record": record,
                           "reason": "accepted until the renewal", "approver": "team-ops", "expires": expires})


@pytest.mark.parametrize(("expires", "expected"), [("2027-07-01", (0, [])), ("2026-05-20", (1, ["change.new-risk"]))])
def test_among_many_waivers_the_change_reads_those_of_the_records_it_reaches(
        repo: Path, monkeypatch: pytest.MonkeyPatch, expires: str, expected: tuple[int, list[str]]) -> None:
    """A change reads the waivers of the records it reaches, found through the relation index of the head's
    validation, not every waiver: the waiver of the licence the change over-deploys still accepts the risk, and
    a lapsed one does not; without the index (no cache) every waiver is read, with the same outcome."""
    from bir.change import side

    folder = repo / "registry/waiver"
    folder.mkdir()
    for n in range(20):  # waivers of records the change does not reach
        (folder / f"wvr-{n:03d}.yaml").write_text(waiver(f"wvr-{n:03d}", "lt-1", "record.verification_overdue"))
    (folder / "wvr-os.yaml").write_text(waiver("wvr-os", "lic-os", expires=expires))
    commit(repo, "Waivers", date="2026-05-02T10:00:00+00:00")
    read: list[str] = []
    real = side.parse_record
    monkeypatch.setattr(side, "parse_record", lambda path, data: read.append(path) or real(path, data))
    edit(repo, "hardware/srv-01.yaml", relations=[{"type": "licensed_by", "target": "lic-os"}])
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert (code, rules(report)) == expected
    assert [p for p in read if p.startswith("registry/waiver/")] == ["registry/waiver/wvr-os.yaml"]
    commit(repo, "srv-01 licensed", date="2026-05-03T10:00:00+00:00")
    read.clear()  # a commit as the head: no validation cache, so no index
    code, report, _ = change(repo, "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert (code, rules(report)) == expected
    assert {p for p in read if p.startswith("registry/waiver/wvr-")} == {f"registry/waiver/{p.name}" for p in folder.iterdir()}


# -- the change record survives the merge ----------------------------------------------------------------
def test_the_change_record_is_read_from_a_squashed_template(repo: Path) -> None:
    from bir.history.trail import change_log

    edit(repo, "hardware/srv-01.yaml", name="Server One")
    body = ("Rename srv-01 (#21)\n\n## Change-Type\n- [ ] standard\n- [x] normal\n\n## Reason\nClearer names\n\n"
            "## Risk\nNone\n\n## Backout-Plan\nRevert the pull request\n")
    commit(repo, body, date="2026-02-01T10:00:00+00:00")
    edit(repo, "hardware/srv-01.yaml", name="Server 1")
    commit(repo, "A quick fix without a record", date="2026-02-02T10:00:00+00:00")
    log = change_log(repo)
    assert log[1].record == {"change_type": "normal", "reason": "Clearer names", "risk": "None",
                             "backout_plan": "Revert the pull request"}
    code, out, _err = run("log", "--root", repo, "--missing-record")
    assert code == 1
    assert "A quick fix without a record" in out and "Rename srv-01" not in out
    assert "change record lacks: change_type, reason, risk, backout_plan" in out


# -- record text never reaches the runner, the comment or the terminal as commands ------------------------
HOSTILE = ("\x1b[31mred \x1b]8;;https://evil\x07 x\n::error file=README.md::pwned\n::add-mask::secret\n::stop-commands::abc\n"
           "@org/team [link](https://evil.example) ![img](https://evil.example/i.png) `code` <b>html</b> #12")


def test_hostile_record_text_stays_data_in_every_channel(repo: Path, tmp_path: Path) -> None:
    edit(repo, "hardware/srv-01.yaml", description=HOSTILE)
    summary = tmp_path / "summary.md"
    _code, out, _err = run("change", "--root", repo, "--base", "HEAD", "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    for line in out.splitlines():
        assert not line.startswith(("::add-mask", "::stop-commands", "::error file=README")), line
        assert "pwned" not in line or line.startswith("::") is False or "%0A" in line
    md = summary.read_text()
    assert "@org" not in md.replace("@\u200borg", "") and "](" not in md and "<b>" not in md and "`code`" not in md
    assert "https://evil" not in md and "\x1b" not in md and "#12" not in md
    _code, _report, text = change(repo, "--base", "HEAD")
    assert "\x1b" not in text and "\\x1b]8;;https://evil\\x07" in text
    commit(repo, "Hostile description", date="2026-02-01T10:00:00+00:00")
    code, out, _err = run("history", "--root", repo, "srv-01")
    assert code == 0 and "\x1b" not in out and "\\x1b[31mred" in out


def test_site_configuration_that_runs_code_is_refused_and_is_a_rules_change(repo: Path, tmp_path: Path) -> None:
    (repo / "site").mkdir(exist_ok=True)
    (repo / "site/mkdocs.yml").write_text("site_name: x\nhooks: [site/evil.py]\ntheme: {name: material, custom_dir: site/t}\n")
    (repo / "site/evil.py").write_text("import os\nos.system('touch /tmp/pwned')\n")
    code, report, _ = change(repo, "--base", "HEAD", "--format", "json")
    assert code == 1 and rules(report) == ["change.site-config", "change.site-config"]
    assert "site/mkdocs.yml" in [f["path"] for f in report["rules"]["files"]]  # type: ignore[index]
    from bir.site.build import SiteBuildError, build_site

    with pytest.raises(SiteBuildError, match="hooks"):
        build_site(repo, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_record_replaced_by_a_symbolic_link_in_a_commit_is_reported(repo: Path) -> None:
    target = repo / "registry/hardware/srv-02.yaml"
    target.unlink()
    target.symlink_to("../../bir.yaml")
    commit(repo, "Link", date="2026-02-01T10:00:00+00:00")
    code, report, _ = change(repo, "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert code == 1
    assert ("registry/hardware/srv-02.yaml", "file.symlink") in [(p["path"], p["rule"]) for p in report["head_problems"]]  # type: ignore[index,union-attr]
