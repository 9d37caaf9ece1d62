"""sitemap.xml: every page of the site with its absolute URL, and for record pages the day of the last change.

The address is the MkDocs configuration's `site_url`; without one, the GitHub Pages address of the
register's `repository_url` (https://github.com/OWNER/REPO is published at https://OWNER.github.io/REPO/,
where `.github/workflows/publish.yml` deploys it). With neither the site has no sitemap: a sitemap must
name absolute URLs. Over 50,000 pages (the protocol's limit per file) it is an index of several sitemaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from bir.site.safe import safe_url

PER_FILE = 50_000
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?$")
_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def base_url(site_url: object, repository_url: object) -> str | None:
    """The site's address, ending in a slash, or None."""
    url = safe_url(site_url)
    if url and url.startswith(("https://", "http://")):
        return url.rstrip("/") + "/"
    repo = safe_url(repository_url)
    m = _GITHUB.match(repo or "")
    if m:
        return f"https://{m.group(1).lower()}.github.io/{m.group(2)}/"
    return None


def write_sitemap(site: Path, base: str, pages: Iterable[str], lastmod: Mapping[str, str]) -> list[str]:
    """Write sitemap.xml (and sitemap-N.xml when needed) for `pages` (relative paths); returns the files written."""
    urls = []
    for rel in sorted(pages):
        day = lastmod.get(rel)
        urls.append(f"<url><loc>{escape(base + rel)}</loc>" + (f"<lastmod>{escape(day)}</lastmod>" if day else "") + "</url>")
    chunks = [urls[i : i + PER_FILE] for i in range(0, len(urls), PER_FILE)] or [[]]
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if len(chunks) == 1:
        (site / "sitemap.xml").write_text(head + f"<urlset {_NS}>\n" + "\n".join(chunks[0]) + "\n</urlset>\n", encoding="utf-8")
        return ["sitemap.xml"]
    names = [f"sitemap-{i + 1}.xml" for i in range(len(chunks))]
    for name, chunk in zip(names, chunks, strict=True):
        (site / name).write_text(head + f"<urlset {_NS}>\n" + "\n".join(chunk) + "\n</urlset>\n", encoding="utf-8")
    index = "\n".join(f"<sitemap><loc>{escape(base + n)}</loc></sitemap>" for n in names)
    (site / "sitemap.xml").write_text(head + f"<sitemapindex {_NS}>\n{index}\n</sitemapindex>\n", encoding="utf-8")
    return ["sitemap.xml", *names]
