"""The parts of a site build that read the register and write the files beside the pages: the register
(through the result cache), its history, the downloads, the search index and
the sitemap. `bir.site.build` runs them in order (some in forked processes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from bir.base.problems import UsageError


def site_path(record_id: str, service: bool) -> str:
    from bir.site.pages import file_id

    return f"{'services' if service else 'records'}/{file_id(record_id)}.html"


def evaluate(point: Any, say: Callable[[str], None]) -> Any:
    """`bir.reports.evaluate(point)`: the verdicts of files judged before come from the result cache
    (`bir.cache.results`), so a rebuild parses only the files that changed."""
    from bir.reports import evaluate

    evaluation = evaluate(point)
    loaded = evaluation.loaded
    say(f"records: {loaded.checked:,} of {loaded.files:,} file(s) checked, the others' verdicts from the cache")
    return evaluation


def record_downloads(evaluation: Any, folder: Path) -> Any:
    """The downloads that need no report, into `folder`: `bir.site.downloads.RecordFiles`."""
    from bir.site.downloads import write_record_files

    return write_record_files(evaluation.register, evaluation.point, folder)


class BeforeReports(NamedTuple):
    files: Any  # bir.site.downloads.RecordFiles, which `figure_downloads` takes
    postings: Any  # bir.site.search.RecordPostings, which `search` takes


def before_reports(evaluation: Any, folder: Path) -> BeforeReports:
    """What needs only the register, in a forked process while the reports are computed (on a large
    register): the record downloads into `folder`, and the records' part of the search index."""
    from bir.site.search import record_postings

    files = record_downloads(evaluation, folder)
    return BeforeReports(files, record_postings(*_search_records(evaluation.register)))


def _search_records(register: Any) -> tuple[list[Any], dict[str, str]]:
    return (sorted(register.records.values(), key=lambda r: r.id),
            {r.id: site_path(r.id, r.kind == "service") for r in register.records.values()})


def figure_downloads(evaluation: Any, folder: Path, first: Any) -> list[tuple[str, str, int]]:
    """The rest of the downloads, once the reports are computed (in a forked process, on a large register)."""
    from bir.site.downloads import write_figure_files

    return write_figure_files(evaluation, folder, first)



def search(evaluation: Any, site_dir: Path, prepared: Any = None) -> None:
    """The search index: every record (`prepared`: their part, from `before_reports`), and the sections of
    the pages MkDocs wrote."""
    from bir.site.search import build_index, page_sections

    records, urls = _search_records(evaluation.register) if prepared is None else ([], {})
    build_index(records, urls, site_dir / "search-index", page_sections(site_dir, written_pages(site_dir)),
                prepared=prepared)



def sitemap(site_dir: Path, site_url: object, register: Any, history: dict[str, list[Any]], files: set[str]) -> None:
    """Replace MkDocs's sitemap (empty without site_url, and blind to the record pages) with one of every page."""
    from bir.site.sitemap import base_url, write_sitemap

    for stale in ("sitemap.xml", "sitemap.xml.gz"):
        (site_dir / stale).unlink(missing_ok=True)
    base = base_url(site_url, register.config.repository_url)
    if base is None:
        return
    lastmod = {site_path(rid, register.records[rid].kind == "service"): entries[0].date[:10]
               for rid, entries in history.items() if entries and rid in register.records}
    write_sitemap(site_dir, base, [f for f in files if f.endswith(".html") and f != "404.html" and not f.startswith("assets/")],
                  lastmod)



def written_pages(site_dir: Path) -> list[str]:
    """The pages MkDocs rendered (guide, reference, reports, schema, lists), which the search indexes by section;
    record, service and kind pages are found as records."""
    from bir.site.linkcheck import list_files

    # The folders of one page a record are not walked (100,000 files at 100k records).
    files, _ = list_files(site_dir, prune=("records", "kinds", "assets", "downloads", "search-index"))
    out = [rel for rel in files if rel.endswith(".html") and rel not in ("404.html", "search.html")
           and not (rel.partition("/")[0] == "services" and rel != "services/index.html")]
    return sorted(out, key=lambda rel: rel.split("/"))



def history(point: Any) -> tuple[dict[str, list[Any]], list[Any]]:
    """Record histories (newest first, with field-level changes) and the change log up to the point's commit
    (all of it for the working tree), from one git log pass; empty when the register is not in git.

    Field changes are read for the changes that modify a record: an added record's "changes" would be every
    field of it, and reading those blobs costs as much as loading the register again (its first commit
    adds them all), for a page that says "created".
    """
    from bir.git.plumbing import Git, GitError
    from bir.history import trail

    if point.empty:
        return {}, []
    try:
        git = Git(point.root)
        git.require_full_history()
        commits = git.log(("registry",))
        history = trail.all_history(point.root, commits=commits)
        log = trail.change_log(point.root, commits=commits)
    except (GitError, UsageError):
        return {}, []
    if point.commit is not None:
        shas = [e.commit for e in log]
        if point.commit in shas:
            later = set(shas[: shas.index(point.commit)])
        else:  # the point's commit touched no record: cut by its date
            later = {e.commit for e in log if e.date[:10] > point.day.isoformat()}
        history = {k: [e for e in v if e.commit not in later] for k, v in history.items()}
        log = [e for e in log if e.commit not in later]
    distinct = {id(v): v for v in history.values()}.values()
    changed = [e for v in distinct for e in v if e.change != "added" and e.old_blob and e.new_blob]
    try:
        trail.fill_fields(point.root, changed)  # field-level changes for these entries only
    except GitError:
        pass
    return history, log


