"""`bir site build`: register -> report models -> history -> MkDocs pages + record pages -> output.

MkDocs (Material) renders the hand-written pages, the report pages and one template page whose HTML is
the theme's chrome; record, service and kind pages are rendered into that chrome (`bir.site.render`),
which is what makes 100,000 records feasible. On a large register the build forks three times: while the
reports are computed, a process writes the downloads that need none (JSON, CSV, the database's record
tables) and indexes the records for the search; once they are computed, another adds the database's
figures; after MkDocs, the record pages are shared between a worker and the main process, which also
writes the search index (the records' part made before, the page sections added). The build writes into
a fresh sibling folder and renames it over `--out` only when everything, including the link check,
succeeded.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import logging
import multiprocessing
import os
import re
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from bir.base.gcpause import gc_paused
from bir.base.model import RELATION_TYPES
from bir.base.problems import UsageError
from bir.site import docs, incremental, linkcheck, pages, parts, render
from bir.site.render import KIND_COLUMNS, KIND_PAGE_ROWS

PACKAGE_DIR = Path(__file__).resolve().parent
PARALLEL_FROM = 2000  # records: smaller registers build in one process


class SiteBuildError(UsageError):
    """The site could not be built; the previous output is left as it was."""


@dataclass(slots=True)
class BuildResult:
    out: Path
    records: int
    pages: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def default_config(root: Path) -> dict[str, Any]:
    """The register's `site/mkdocs.yml` when it has one, else a built-in equivalent."""
    own = root / "site" / "mkdocs.yml"
    if own.is_file():
        loaded = yaml.safe_load(own.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            return loaded
    return {"site_name": "Register", "theme": {"name": "material", "font": False}}


def build_site(
    root: Path,
    out: Path,
    as_of: str | None = None,
    *,
    log: Callable[[str], None] | None = None,
    check_links: bool = True,
    workers: int | None = None,
) -> BuildResult:
    """Build the site of the register at `root` into `out` (replaced only on success).

    With `workers` > 1 (the default from `PARALLEL_FROM` records on a machine with two cores or more) the
    build forks a process for the downloads that need no report before the reports are computed, one for the
    rest of them once they are, and `workers - 1` processes after
    MkDocs has run: they render record and service pages while the main process writes the search index, then
    renders pages too.
    """
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 2)
        say(f"{name}: {now - since:.1f} s (peak memory so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")
        return now

    root, out = root.resolve(), out.resolve()
    _check_output_folder(out, root)
    t = started
    from bir.point.point import open_point

    point = open_point(root, as_of=as_of)
    _check_site_config(root, point.config.raw)
    for warning in point.warnings:
        say(f"warning: {warning.message}")
    evaluation = parts.evaluate(point, say)
    register, as_of_day = evaluation.register, point.day
    t = lap("load", t)
    n = workers if workers is not None else (2 if len(register) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1 else 1)
    parallel = n > 1
    out.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(out)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-{os.getpid()}-", dir=out.parent))
    jobs: list[_Job[Any]] = []
    frozen = False
    try:
        site_dir = work / "site"
        if parallel:
            gc.freeze()  # forked processes share the register: keep the collector from touching (copying) it
            frozen = True
        # The downloads that need no report (JSON, CSV, the database's record tables) and the records' part of
        # the search index: on a large register a process makes them while this one computes the reports,
        # which keep one core busy. MkDocs empties its site folder, so the downloads go beside it and move in
        # at the end.
        early: _Job[parts.BeforeReports] = _Job.start(functools.partial(parts.before_reports, evaluation, work / "downloads"), parallel)
        jobs.append(early)  # cancelled with the others if the build stops
        reports = evaluation.all()
        t = lap("reports", t)
        # The figures before the next fork: the downloads read them too, and a process forked first would
        # compute them again for itself.
        figures = evaluation.figures()
        t = lap("figures", t)
        if parallel:
            gc.collect()
            gc.freeze()  # what the reports built is shared too
        # The rest of the downloads (the database's figures) need the reports and figures and nothing after
        # them: one more process writes them while this one writes the pages, runs MkDocs and renders. It
        # starts when the first part is done: now on a large register, else after MkDocs (never waiting here).
        side: _Job[list[tuple[str, str, int]]] | None = None

        def start_side() -> _Job[list[tuple[str, str, int]]]:
            job = _Job.start(functools.partial(parts.figure_downloads, evaluation, work / "downloads", early.result().files),
                             parallel)
            jobs.append(job)
            return job

        if early.ready():
            side = start_side()
        history, log_entries = parts.history(point)
        t = lap("history", t)
        data = docs.SiteData(register, reports, figures, history, log_entries, as_of_day, point.schemas.raw,
                             docs.Fills(work / "fills"), evaluation.context)
        views = render.Views.make(register, figures, history, log_entries, as_of_day,
                                  evaluation.context.inverse, reports, evaluation.loaded.keys, _data_context(point))
        t = lap("index", t)
        with tempfile.TemporaryDirectory(prefix="bir-docs-") as tmp:
            docs_dir = Path(tmp) / "docs"
            hand = root / "site" / "docs"
            if hand.is_dir():
                shutil.copytree(hand, docs_dir)
            docs_dir.mkdir(parents=True, exist_ok=True)
            if not (docs_dir / "model.md").exists():
                docs_dir.joinpath("model.md").write_text("# The data model\n\nSee the [schema reference](schema/index.md).\n", encoding="utf-8")
            shutil.copytree(PACKAGE_DIR / "assets", docs_dir / "assets" / "bir", dirs_exist_ok=True)
            nav = docs.write_pages(data, docs_dir, _hand_nav(docs_dir))
            config = _mkdocs_config(root, docs_dir, site_dir, nav)
            site_url = config.get("site_url")
            config_file = Path(tmp) / "mkdocs.yml"
            config_file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
            t = lap("pages", t)
            _mkdocs_build(config_file)
            t = lap("mkdocs", t)
        if side is None:
            side = start_side()
        template = site_dir / "records" / "_template.html"
        try:
            chrome = render.Chrome(template.read_text(encoding="utf-8"), docs.nav_sections(nav))
        except render.ChromeError as exc:
            raise SiteBuildError(str(exc)) from exc
        template.unlink()
        (site_dir / "records").mkdir(exist_ok=True)
        (site_dir / "services").mkdir(exist_ok=True)
        (site_dir / "kinds").mkdir(exist_ok=True)
        # Every file the site will hold, for the in-memory link check of the pages rendered from templates.
        files, dirs = linkcheck.list_files(site_dir)
        rendered = [f"records/{pages.file_id(rid)}.html" for rid in register.records]
        rendered += [f"services/{pages.file_id(r.id)}.html" for r in register.of_kind("service")]
        rendered += render.kind_page_files(register)
        files.update(rendered)
        checker = linkcheck.LinkChecker(files, dirs)
        broken = [(f"records/{title}", href) for title, href in _chrome_links(chrome, checker)]
        # Record and service pages in chunks from a queue with two ends: the main process takes chunks from
        # the front after it has written the search index, forked workers take them from
        # the back. Each process touches (and so copies, after the fork) only a contiguous part of the register.
        prev = incremental.previous(root, out, MARKER)
        if prev is not None:
            say(f"updating {out} in place: pages whose content is unchanged are kept")
        renderer = render.Renderer(views, chrome, site_dir, checker, prev.pages if prev else None, out)
        queue = render.ChunkQueue(list(register.records.values()), render.CHUNK, shared=parallel)
        if parallel:
            gc.collect()
            gc.freeze()  # again: what was built since the first fork (views, chrome, queue) is shared too
        renderers = [_Job.start(functools.partial(render.render_queue, renderer, queue, False), parallel) for _ in range(n - 1)]
        jobs.extend(renderers)
        parts.search(evaluation, site_dir, early.result().postings)
        t = lap("search", t)
        # The kind pages before this process's share of the record pages: the workers take the records it leaves.
        fills, kind_count, kind_broken = render.kind_pages(register, chrome, views.env, site_dir, checker)
        t = lap("kind pages", t)
        results = [render.render_queue(renderer, queue, True)] + [job.result() for job in renderers]
        t = lap("record pages", t)
        downloads = side.result()
        _move_into(work / "downloads", site_dir / "downloads")
        t = lap("downloads", t)
        count = sum(r.pages for r in results) + kind_count
        page_state = {rel: v for r in results for rel, v in r.written.items()}
        kept, same = sum(r.kept for r in results), sum(r.same for r in results)
        broken += kind_broken + [b for r in results for b in r.broken]
        service_rows = dict(row for r in results for row in r.service_rows)
        data.fills.update(fills)
        cols = ["service", "name", "criticality", "status", "components", "annual_run_cost", "annual_run_cost_in_full", "risks",
                "single_points_of_failure"]
        data.fills["services"] = pages.html_table(register, cols, [service_rows[k] for k in sorted(service_rows)], 1,
                                                  table_id="bir-services") + docs.services_reconciliation(data)
        data.fills["downloads"] = docs.downloads_table(downloads)
        _fill(site_dir, data.fills)
        t = lap("fills", t)
        parts.sitemap(site_dir, site_url, register, history, files)
        t = lap("sitemap", t)
        if check_links:
            broken += linkcheck.check(site_dir, skip=frozenset(rendered), also=rendered)
            t = lap("links", t)
            if broken:
                shown = "; ".join(f"{page} -> {href}" for page, href in broken[:10])
                raise SiteBuildError(f"{len(broken)} broken internal link(s): {shown}")
        token = incremental.new_token()
        (site_dir / MARKER).write_text(incremental.marker_text(token), encoding="utf-8")
        if prev is not None:
            incremental.forget(root)  # until the output is whole again, the next build is a full one
            written, removed, prints = incremental.apply(site_dir, out, keep=set(page_state))
            page_state = {rel: state._replace(print=prints.get(rel, state.print)) for rel, state in page_state.items()}
            again = f" ({same:,} of them rendered again: the same bytes)" if same else ""
            say(f"{kept + same:,} record and service pages unchanged{again}; {written:,} files written, {removed:,} removed")
        else:
            _replace(site_dir, out)
        incremental.save(root, out, token, page_state)
        t = lap("replace", t)
    finally:
        for job in jobs:
            job.cancel()
        if frozen:
            gc.unfreeze()
        shutil.rmtree(work, ignore_errors=True)
    return BuildResult(out, len(register), count, round(time.perf_counter() - started, 2), timings)


def _data_context(point: Any) -> str:
    """What a record's data depends on besides its file's path and bytes (the result cache's context)."""
    from bir.cache.results import context_of

    return context_of(point.rules)


def _move_into(source: Path, folder: Path) -> None:
    """Move the files of `source` into `folder` (created when missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        os.replace(path, folder / path.name)
    source.rmdir()


def _check_site_config(root: Path, config: dict[str, Any]) -> None:
    """Refuse `site/mkdocs.yml` options that run code or load templates, unless bir.yaml allows them."""
    from bir.read.siteconfig import dangerous_options

    path = root / "site" / "mkdocs.yml"
    if path.is_symlink():
        raise SiteBuildError(f"{path} is a symbolic link; the site configuration must be a regular file")
    if not path.is_file():
        return
    allowed = set((config.get("site") or {}).get("allow") or ())
    refused = [what for key, what in dangerous_options(path.read_bytes()) if key not in allowed]
    if refused:
        raise SiteBuildError(f"site/mkdocs.yml uses {', '.join(refused)}, which run code or load templates when the site "
                             "is built; remove them, or allow them under site.allow in bir.yaml")


def _chrome_links(chrome: render.Chrome, checker: linkcheck.LinkChecker) -> list[tuple[str, str]]:
    """The chrome's own links, checked once for the folders that share it."""
    text = chrome.page("chrome", "")
    return [(f"{folder}/_chrome.html", href) for folder in ("records", "services", "kinds")
            for href in checker.check_text(f"{folder}/_chrome.html", text)]


T = TypeVar("T")


class _Job(Generic[T]):
    """A piece of the build run in a forked process (or inline, when the build is not parallel)."""

    def __init__(self) -> None:
        self.proc: Any = None
        self.recv: Any = None
        self.value: T | None = None

    @classmethod
    def start(cls, fn: Callable[[], T], fork: bool) -> _Job[T]:
        job: _Job[T] = cls()
        if not fork:
            job.value = fn()
            return job
        ctx = multiprocessing.get_context("fork")
        job.recv, send = ctx.Pipe(duplex=False)
        job.proc = ctx.Process(target=_child, args=(fn, send), daemon=True)
        job.proc.start()
        send.close()
        return job

    def ready(self) -> bool:
        """True when the result can be had without waiting."""
        return self.proc is None or bool(self.recv.poll())

    def result(self) -> T:
        if self.proc is None:
            return self.value  # type: ignore[return-value]
        try:
            with gc_paused():  # a worker's result can be a million small objects (the search's records part)
                ok, value = self.recv.recv()
        except EOFError:
            ok, value = False, f"a build worker died (exit code {self.proc.exitcode})"
        finally:
            self.recv.close()
            self.proc.join()
            self.proc = None
        if not ok:
            raise SiteBuildError(f"site build worker failed: {value}")
        self.value = value
        return value  # type: ignore[no-any-return]

    def cancel(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
        if self.proc is not None:
            self.recv.close()
            self.proc = None


def _child(fn: Callable[[], Any], send: Any) -> None:
    try:
        result = (True, fn())
    except BaseException as exc:
        result = (False, f"{type(exc).__name__}: {exc}")
    send.send(result)
    send.close()


def _hand_nav(docs_dir: Path) -> list[Any]:
    """Hand-written guide and reference pages, when they are there."""
    nav: list[Any] = []
    guide = sorted((p for p in (docs_dir / "guide").glob("*.md")), key=lambda p: (p.name != "index.md", p.name)) \
        if (docs_dir / "guide").is_dir() else []  # the guide's own index first: the section's link leads there
    if guide:
        nav.append({"Guide": [p.relative_to(docs_dir).as_posix() for p in guide]})
    ref = sorted(p for p in (docs_dir / "reference").glob("*.md")) if (docs_dir / "reference").is_dir() else []
    if ref:
        nav.append({"Reference": [p.relative_to(docs_dir).as_posix() for p in ref]})
    return nav


def _mkdocs_config(root: Path, docs_dir: Path, site_dir: Path, nav: list[Any]) -> dict[str, Any]:
    config = default_config(root)
    config.update({"docs_dir": str(docs_dir), "site_dir": str(site_dir), "nav": nav, "use_directory_urls": False, "strict": True})
    theme = config.setdefault("theme", {"name": "material"})
    theme["font"] = False  # no request to any other host
    config.pop("repo_url", None)  # Material would ask the GitHub API for stars
    # No Material search: it indexes the written pages only and is not shown from file://. The site's own
    # search (bir.site.search, assets/bir-search.js) finds records and page sections, from disk and over HTTP.
    config["plugins"] = []
    config["extra_css"] = ["assets/bir/bir.css"]
    config["extra_javascript"] = ["assets/bir/bir.js", "assets/bir/bir-search.js"]
    config["not_in_nav"] = "/records/_template.md"
    config.setdefault("validation", {"links": {"absolute_links": "warn", "unrecognized_links": "warn", "anchors": "warn"}})
    config.setdefault("markdown_extensions", ["tables", "attr_list", "md_in_html", "toc"])
    return config


def _mkdocs_build(config_file: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        config = load_config(config_file=str(config_file))
        build(config)
    except (Abort, MkDocsException) as exc:
        raise SiteBuildError(f"mkdocs build --strict failed: {exc}") from exc
    finally:
        logger.setLevel(level)


def _fill(site_dir: Path, fills: docs.Fills) -> None:
    """Put the large tables into the MkDocs pages that hold their markers (streamed from the fill files)."""
    pattern = re.compile(r"<p>BIRFILL:([a-z0-9_-]+)</p>")
    candidates = [site_dir / d / "index.html" for d in ("services", "parties", "cost-centres", "locations")]
    candidates += [p for d in ("", "reports", "kinds") for p in (site_dir / d).glob("*.html")]
    for page in candidates:
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        if "BIRFILL:" not in text:
            continue
        pieces = pattern.split(text)  # text, name, text, name, ..., text
        with open(page, "w", encoding="utf-8") as handle:
            for i, piece in enumerate(pieces):
                if i % 2 == 0:
                    handle.write(piece)
                    continue
                source = fills.path(piece)
                if source is not None:
                    with open(source, encoding="utf-8") as fill:
                        shutil.copyfileobj(fill, handle, 1 << 20)


MARKER = ".bir-site"


def _check_output_folder(out: Path, root: Path | None = None) -> None:
    """Refuse, before any work, an output folder that holds anything but a site bir built: the build
    replaces the whole folder, and must never destroy what a user wrote."""
    if out.is_symlink():
        raise SiteBuildError(f"{out} is a symbolic link; give the output folder itself")
    if not out.exists():
        return
    if not out.is_dir():
        raise SiteBuildError(f"{out} exists and is not a folder")
    if root is not None and (out == root or out in root.parents):
        raise SiteBuildError(f"{out} holds the register itself; build the site into its own folder (e.g. site/build)")
    if (out / MARKER).is_file() or not any(out.iterdir()):
        return
    raise SiteBuildError(f"{out} holds files that bir did not build; choose a new or empty folder "
                         "(the build replaces the whole output folder)")


def _replace(new: Path, out: Path) -> None:
    """Put the new site at `out` so that there is a site there at every moment, even if the build is killed.

    Where the system can (Linux's renameat2), the two folders trade places in one atomic step; elsewhere the
    old site is renamed aside first, and a build killed between the two renames leaves it aside, where the
    next build (`_clean_leftovers`) puts it back before anything else."""
    _check_output_folder(out)
    if out.exists() and _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old site
        return
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux renameat2 with RENAME_EXCHANGE); False where that is not available."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # this file system cannot exchange: rename in two steps
    raise OSError(code, os.strerror(code), str(b))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def _clean_leftovers(out: Path) -> None:
    """Before a build: put back a previous site a killed build left aside (when `out` is missing), and
    remove the work folders and old sites of builds whose process is gone."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(build|old)-(?:(\d+)-.+|(\d+)|[a-z0-9_]{{8}})$", re.DOTALL)
    try:
        entries = sorted(out.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or entry.is_symlink() or not entry.is_dir():
            continue
        pid = m.group(2) or m.group(3)
        if pid is None:  # a work folder of a version that did not name its process: stale after a day
            with contextlib.suppress(OSError):
                if time.time() - entry.stat().st_mtime > 86400:
                    shutil.rmtree(entry, ignore_errors=True)
            continue
        if int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another build is running
        if m.group(1) == "old" and not out.exists() and not out.is_symlink() and (entry / MARKER).is_file():
            os.replace(entry, out)  # the site a killed build had moved aside goes back
            continue
        shutil.rmtree(entry, ignore_errors=True)


__all__ = ["KIND_COLUMNS", "KIND_PAGE_ROWS", "RELATION_TYPES", "BuildResult", "SiteBuildError", "build_site"]
