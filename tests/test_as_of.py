"""The register at a point, on a real repository with back-dated commits: every command reads the records,
the configuration and its schema, the schemas and the feeds of that day, and warns before the first commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bir.point.point import open_point
from bir.reports import evaluate
from support import RECORDS, commit, make_register, run

FEED = {
    "schema_version": "1.2.0", "generated_at": "2026-01-01T00:00:00Z",
    "result": {"name": "acmeos", "label": "AcmeOS", "releases": [
        {"name": "3.1", "eolFrom": "2026-01-31", "eoasFrom": "2025-06-30"}]},
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Day 1 (2026-01-05): the register, no feed. Day 2 (2026-02-10): a feed that puts its software past end of
    life. Day 3 (2026-03-10): the config schema requires a new setting and bir.yaml has it; a rate changes."""
    r = make_register(tmp_path_factory.mktemp("asof") / "reg", records=RECORDS, git_init=True)
    app = r / "registry" / "software" / "app-portal.yaml"
    app.write_text(app.read_text() + "lifecycle_feed: {product: acmeos, cycle: \"3.1\"}\nlast_verified: \"2026-01-02\"\n")
    commit(r, "Initial register", date="2026-01-05T10:00:00+00:00")
    feed = r / "feeds" / "endoflife" / "acmeos.json"
    feed.parent.mkdir(parents=True)
    from bir.read.feeds import normalise

    feed.write_text(json.dumps(normalise(FEED, "acmeos.json"), indent=2) + "\n")
    commit(r, "Pin the AcmeOS lifecycle feed", date="2026-02-10T10:00:00+00:00")
    schema_path = r / "schemas" / "config.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["properties"]["owner_contact"] = {"type": "string", "description": "Who answers for the register."}
    schema["required"] = [*schema.get("required", []), "owner_contact"]
    schema_path.write_text(json.dumps(schema, indent=2))
    config = r / "bir.yaml"
    config.write_text(config.read_text().replace("USD: 0.92", "USD: 0.95") + "owner_contact: it@example.org\n")
    commit(r, "Require an owner contact; new USD rate", date="2026-03-10T10:00:00+00:00")
    return r


def test_an_old_configuration_is_checked_against_the_schema_of_its_day(repo: Path) -> None:
    # Today's config schema requires owner_contact; the bir.yaml of January has none and was valid then.
    code, out, _err = run("validate", str(repo), "--as-of", "2026-01-31", "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"] == {"records": 7, "errors": 0, "warnings": 0, "by_kind": {
        "hardware": 2, "party": 2, "service": 2, "software": 1}}
    point = open_point(repo, as_of="2026-01-31")
    assert "owner_contact" not in point.config.raw and "owner_contact" not in point.schemas.raw["config"]["properties"]
    assert point.config.rates["USD"] == point.config.rates["USD"].__class__("0.92")
    assert open_point(repo, as_of="2026-03-31").config.rates["USD"] == point.config.rates["USD"].__class__("0.95")


def test_report_and_site_of_one_day_agree(repo: Path, tmp_path: Path) -> None:
    from bir.site.build import build_site

    for day, expected in (("2026-02-01", []), ("2026-02-20", [("software.end_of_life", "app-portal")])):
        code, out, _err = run("report", "risk", "--root", str(repo), "--as-of", day, "--format", "json")
        assert code == 0
        report = json.loads(out)
        found = sorted((f["rule"], f["record"]) for f in report["findings"] if f["rule"].endswith("end_of_life"))
        assert found == expected, day
        site = tmp_path / day
        build_site(repo, site, day)
        risk_page = (site / "reports" / "risk.html").read_text(encoding="utf-8")
        start = risk_page.find('id="report-risk-findings"')
        findings_table = risk_page[start:risk_page.find("</table>", start)] if start >= 0 else ""
        assert ("software.end_of_life" in findings_table) == bool(expected), day
        evaluation = evaluate(open_point(repo, as_of=day))
        assert [f.record for f in evaluation.report("risk").findings if f.rule == "software.end_of_life"] == [  # type: ignore[attr-defined]
            r for _, r in expected]
        record_page = (site / "records" / "app-portal.html").read_text(encoding="utf-8")
        assert ('data-figure="end_of_life" data-value="2026-01-31"' in record_page) == bool(expected), day


@pytest.mark.parametrize("command", [
    ["validate", "{root}", "--as-of", "2025-12-31"],
    ["report", "cost", "--root", "{root}", "--as-of", "2025-12-31"],
    ["report", "risk", "--root", "{root}", "--as-of", "2025-12-31", "--format", "json"],
    ["export", "json", "--root", "{root}", "--as-of", "2025-12-31"],
])
def test_every_command_warns_before_the_first_commit(repo: Path, command: list[str]) -> None:
    args = [a.format(root=repo) for a in command]
    code, out, err = run(*args)
    said = out + err
    assert "the register had no commit on or before 2025-12-31: it was empty then; its first commit is of 2026-01-05" in said
    assert code == 0
    if command[0] == "report" and "--format" not in command:
        assert "warning" in out.splitlines()[1].lower()  # the report itself says so, not only stderr


def test_an_empty_register_never_looks_clean(repo: Path) -> None:
    _code, out, _err = run("report", "risk", "--root", str(repo), "--as-of", "2025-12-31", "--format", "json")
    report = json.loads(out)
    assert report["warnings"] == ["the register had no commit on or before 2025-12-31: it was empty then; "
                                  "its first commit is of 2026-01-05"]
    assert report["findings"] == [] and all(c["compliant_pct"] is None and c["scope"] == 0 for c in report["compliance"])
    _code, out, _err = run("report", "cost", "--root", str(repo), "--as-of", "2025-12-31", "--format", "json")
    cost = json.loads(out)
    assert cost["rates"] == [] and cost["totals"] == {"annual_run_cost": "0.00", "book_value": "0.00", "capital": "0.00"}


def test_site_warns_before_the_first_commit(repo: Path, tmp_path: Path) -> None:
    from bir.site.build import build_site

    said: list[str] = []
    build_site(repo, tmp_path / "site", "2025-12-31", log=said.append)
    assert any("it was empty then" in line for line in said)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "it was empty then" in index
