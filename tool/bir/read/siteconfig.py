"""The site's configuration (`site/mkdocs.yml`) as untrusted input: it arrives in pull requests, and some
MkDocs options run code or load templates from the repository when the site is built.

`dangerous_options` names them; `bir site build` refuses them and `bir change` reports them, unless the
register's bir.yaml allows them under `site.allow` (by the key given here).
"""

from __future__ import annotations

from typing import Any

import yaml

# Markdown extensions that only format text (Python-Markdown's own and the common pymdownx formatting ones).
SAFE_EXTENSIONS = frozenset({
    "abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables", "toc", "sane_lists",
    "smarty", "meta", "nl2br", "wikilinks", "markdown.extensions.tables", "markdown.extensions.toc",
    "pymdownx.details", "pymdownx.mark", "pymdownx.tilde", "pymdownx.caret", "pymdownx.keys", "pymdownx.smartsymbols",
    "pymdownx.tasklist", "pymdownx.betterem",
})
SAFE_PLUGINS = frozenset({"search"})


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, list):
        out = []
        for item in value:
            out += _names(item)
        return out
    return []


def dangerous_options(data: bytes) -> list[tuple[str, str]]:
    """(key for `site.allow`, description) of every option in `site/mkdocs.yml` that runs code or loads
    templates. A file that cannot be read as a YAML mapping is itself refused."""
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError:
        return [("unreadable", "site/mkdocs.yml is not valid YAML")]
    if doc is None:
        return []
    if not isinstance(doc, dict):
        return [("unreadable", "site/mkdocs.yml is not a mapping")]
    found: list[tuple[str, str]] = []
    if doc.get("hooks"):
        found.append(("hooks", "`hooks` (Python files run by MkDocs)"))
    theme = doc.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir"):
        found.append(("custom_dir", "`theme.custom_dir` (templates loaded from the repository)"))
    for name in _names(doc.get("plugins")):
        if name not in SAFE_PLUGINS:
            found.append(("plugins", f"plugin `{name}`"))
    for name in _names(doc.get("markdown_extensions")):
        if name not in SAFE_EXTENSIONS:
            found.append(("markdown_extensions", f"Markdown extension `{name}`"))
    return found
