"""A link check over the built site: every relative href and src must name a file in the output.

`LinkChecker` holds the set of files the site has (listed once) and answers per page, with a cache per
(folder, link), so checking is linear in the number of links. The build checks the pages it renders from
its templates in memory, as it writes them, and the other pages (MkDocs's, with the chrome) from disk.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Collection
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROME_SHARED = frozenset({"records", "services"})
_LINK = re.compile(r'(?:href|src)="([^"]*)"')
_HREF = re.compile(r'href="([^"]*)"')  # a literal start: scanned three times as fast as `_LINK`'s alternation


def list_files(site: Path, prune: Collection[str] = ()) -> tuple[set[str], set[str]]:
    """Every file and folder under `site`, relative, POSIX separators; the top-level folders named in `prune`
    are listed but not walked into."""
    files: set[str] = set()
    dirs: set[str] = set()
    base = len(str(site)) + 1
    for folder, subdirs, names in os.walk(site):
        rel = folder[base:].replace(os.sep, "/")
        if not rel and prune:
            subdirs[:] = [d for d in subdirs if d not in prune]
        prefix = f"{rel}/" if rel else ""
        dirs.update(prefix + d for d in subdirs)
        files.update(prefix + n for n in names)
    return files, dirs


class LinkChecker:
    """Checks the links of pages against a known set of files."""

    def __init__(self, files: Collection[str], dirs: Collection[str]) -> None:
        self.files, self.dirs = files, dirs
        self._cache: dict[str, dict[str, bool]] = {}  # folder -> link -> whether it names a file

    def check_text(self, rel: str, text: str) -> list[str]:
        """The links of page `rel` (relative to the site) that name no file, in the order the page has them."""
        folder = rel.rpartition("/")[0]
        cache = self._cache.get(folder)
        if cache is None:
            cache = self._cache[folder] = {}
        bad: list[str] = []
        for href in _LINK.findall(text) if 'src="' in text else _HREF.findall(text):
            ok = cache.get(href)
            if ok is None:
                ok = cache[href] = _exists(folder, href, self.files, self.dirs)
            if not ok:
                bad.append(href)
        return bad


def check(site: Path, skip: Collection[str] = (), also: Collection[str] = ()) -> list[tuple[str, str]]:
    """(page, link) for every internal link whose target does not exist; pages in `skip` are not read, files
    in `also` exist besides those in `site` (pages an in-place rebuild keeps in the output)."""
    files, dirs = list_files(site)
    files.update(also)
    checker = LinkChecker(files, dirs)
    broken: list[tuple[str, str]] = []
    for rel in sorted(f for f in files if f.endswith(".html") and f not in skip):
        folder = rel.rpartition("/")[0]
        with open(site / rel, encoding="utf-8") as handle:
            text = handle.read()
        if folder in CHROME_SHARED:
            # Pages rendered into the theme's chrome: the chrome is checked on the MkDocs pages beside them.
            start, end = text.find('class="md-content"'), text.find("<footer")
            text = text[start:end] if 0 <= start < end else text
        broken.extend((rel, href) for href in checker.check_text(rel, text))
    return broken


_PLAIN = re.compile(r"(?:\.\./)?[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")


def _exists(folder: str, href: str, files: Collection[str], dirs: Collection[str]) -> bool:
    if _PLAIN.fullmatch(href) and "/." not in href:
        # The common case, a plain relative path (`../records/x.html`, `cost.html`): no parsing needed.
        if href.startswith("../"):
            if not folder:
                return False
            up = folder.rpartition("/")[0]
            target = f"{up}/{href[3:]}" if up else href[3:]
        else:
            target = f"{folder}/{href}" if folder else href
        return target in files or (target in dirs and f"{target}/index.html" in files)
    href = html.unescape(href)
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("#", "data:", "mailto:", "javascript:")):
        return True  # not internal (unsafe schemes are never written: see safe.safe_url)
    path = unquote(parts.path)
    if not path:
        return True
    stack = [] if path.startswith("/") else [p for p in folder.split("/") if p]
    for piece in path.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if not stack:
                return False
            stack.pop()
        else:
            stack.append(piece)
    target = "/".join(stack)
    return target in files or (target in dirs and f"{target}/index.html" in files) or target == ""
