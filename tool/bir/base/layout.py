"""Where things live in a register: the configuration, the schemas, one folder per kind of record, feeds,
caches. Paths are relative to the register root, with POSIX separators."""

from __future__ import annotations

import re

from bir.base.model import KINDS

CONFIG_FILE = "bir.yaml"
SCHEMA_DIR = "schemas"
CONFIG_SCHEMA = f"{SCHEMA_DIR}/config.schema.json"
RECORD_DIR = "registry"
FEED_DIR = "feeds/endoflife"
SITE_CONFIG = "site/mkdocs.yml"
CACHE_DIR = ".bir-cache"
KIND_FOLDERS = {f"{RECORD_DIR}/{k}": k for k in KINDS}  # "registry/hardware" -> "hardware"
# What a commit must hold for the register's rules and records to be read from it.
REGISTER_PATHS = (RECORD_DIR, CONFIG_FILE, SCHEMA_DIR)


def record_of(path: str) -> tuple[str, str] | None:
    """(kind, id) of a record's path `registry/<kind>/<id>.yaml`, None for any other path (hidden files
    and names with a control character or a character Windows refuses included: they are never records)."""
    folder, _, name = path.rpartition("/")
    kind = KIND_FOLDERS.get(folder)
    if kind is None or not name.endswith(".yaml") or name.startswith(".") or not name.isprintable() \
            or _NOT_IN_NAMES.search(name):
        return None
    return kind, name[:-5]


_NOT_IN_NAMES = re.compile(r'[<>:"\\|?*]')
