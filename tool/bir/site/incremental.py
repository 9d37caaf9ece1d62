"""Rebuilding a site in place: only pages whose content changed are written; the others keep bytes and mtime.

A full build writes a fresh folder and renames it over the output (`build._replace`). When the output is a
site the last build of this register wrote, and that build's page manifest is at hand, the next build
updates it in place instead:

- every record page has a digest of everything it shows (`render.Renderer.digest`); a page whose digest and
  file (size, mtime, inode) are those of the manifest is not rendered at all;
- a page rendered again (its digest changed: a new version of bir, a changed template or configuration, a
  record it shows) whose bytes hash as the manifest's page, in a file still as the manifest left it, is not
  written: after an upgrade that changes no page, no page is written;
- everything else (the MkDocs pages, assets, downloads, search index, service and kind pages, sitemap) is
  built into the work folder as in a full build;
- nothing in the output changes until the whole build, link check included, has succeeded; then each new or
  changed file is renamed into place (each file atomically), files whose bytes are unchanged are left
  alone, and files the new site no longer has are removed.

The manifest (`.bir-cache/site-pages.pickle`, sealed) names the output folder and a token that the output's
marker file repeats, so an output replaced or rebuilt by anything else is rebuilt in full. It is removed
before the output is touched and written after: an apply cut short leaves no manifest, and the next build
is a full one.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from bir.base.atomic import read_cache, register_cache_dir, write_cache

CACHE_FILE = "site-pages.pickle"
FORMAT = 2
Print = tuple[int, int, int]  # size, mtime_ns, inode


def fingerprint(st: os.stat_result) -> Print:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def content_hash(data: bytes) -> bytes:
    """What stands for a page's bytes in the manifest (SHA-256, cut to 16 bytes: about 7 us for a record page)."""
    return hashlib.sha256(data).digest()[:16]


class PageState(NamedTuple):
    """A record or service page as the last build left it in the output."""

    digest: bytes  # everything the page shows (`render.Renderer.digest`)
    print: Print  # its file in the output
    content: bytes  # `content_hash` of its bytes


@dataclass(slots=True)
class Manifest:
    format: int
    out: str
    token: str
    pages: dict[str, PageState] = field(default_factory=dict)  # rel -> the page


def _cache(root: Path) -> Path | None:
    folder = register_cache_dir(root)  # the register's caches, wherever they live (BIR_CACHE_DIR, else .bir-cache)
    return None if folder is None else folder / CACHE_FILE


def marker_text(token: str) -> str:
    return f"Built by `bir site build`; the next build replaces or updates this folder.\ntoken {token}\n"


def previous(root: Path, out: Path, marker: str) -> Manifest | None:
    """The last build's manifest when `out` is still the site it describes, else None (build in full)."""
    path = _cache(root)
    if path is None or not (out / marker).is_file() or out.is_symlink():
        return None
    got = read_cache(path)
    if not isinstance(got, Manifest) or got.format != FORMAT or got.out != str(out):
        return None
    try:
        text = (out / marker).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return got if text == marker_text(got.token) else None


def forget(root: Path) -> None:
    path = _cache(root)
    if path is not None:
        path.unlink(missing_ok=True)


def new_token() -> str:
    return secrets.token_hex(16)


def save(root: Path, out: Path, token: str, pages: Mapping[str, PageState]) -> None:
    path = _cache(root)
    if path is not None:
        path.parent.mkdir(exist_ok=True)
        write_cache(path, Manifest(FORMAT, str(out), token, dict(pages)))


def _same(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with open(a, "rb") as x, open(b, "rb") as y:
            while True:
                ca, cb = x.read(1 << 20), y.read(1 << 20)
                if ca != cb:
                    return False
                if not ca:
                    return True
    except OSError:
        return False


def apply(new: Path, out: Path, keep: Collection[str]) -> tuple[int, int, dict[str, Print]]:
    """Move the files of `new` into `out` where their bytes differ, and remove the files of `out` that are
    neither in `new` nor in `keep` (pages kept from the last build). Returns (written, removed, and the
    fingerprint in `out` of every file of `new`)."""
    written = 0
    prints: dict[str, Print] = {}
    names: set[str] = set()
    base = len(str(new)) + 1
    for folder, _dirs, files in os.walk(new):
        rel_dir = folder[base:].replace(os.sep, "/")
        for name in files:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            names.add(rel)
            src, dst = Path(folder) / name, out / rel
            if dst.is_symlink() or dst.is_dir():
                shutil.rmtree(dst) if dst.is_dir() and not dst.is_symlink() else dst.unlink()
            if not (dst.is_file() and _same(src, dst)):
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                written += 1
            prints[rel] = fingerprint(dst.stat())
    removed = 0
    base = len(str(out)) + 1
    for folder, _dirs, files in os.walk(out, topdown=False):
        rel_dir = folder[base:].replace(os.sep, "/")
        for name in files:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if rel not in names and rel not in keep:
                os.unlink(Path(folder) / name)
                removed += 1
        if folder != str(out) and not os.listdir(folder):
            os.rmdir(folder)
    return written, removed, prints
