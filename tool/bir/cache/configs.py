"""The working tree's configuration, interpreted once per content.

Every command on the working tree checks `bir.yaml` against its schema and interprets it: a few
milliseconds, and PyYAML to load (about as much again), where an unchanged re-run has nothing else to parse.
The interpretation is kept in the register's cache folder (`configuration.pickle`, sealed with the user's key:
`bir.base.atomic`), keyed by the file's bytes, the schemas' fingerprint and bir's code (`bir.cache.stamp`):
an edit of any of them interprets it again. A configuration that fails is never kept, so its errors are
reported on every run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from bir import __version__
from bir.base.atomic import read_cache, register_cache_dir, write_cache
from bir.base.config import Config
from bir.cache.stamp import code_stamp
from bir.read.config import load_config

if TYPE_CHECKING:
    from bir.read.schemas import SchemaSet

CONFIG_CACHE = "configuration.pickle"


def interpreted(root: Path, text: bytes, schemas: SchemaSet) -> Config:
    """`load_config(text, schemas)` (ConfigError when the configuration is not valid), from the register's
    cache when the same bytes were interpreted by the same code against the same schemas."""
    folder = register_cache_dir(root)
    if folder is None:
        return load_config(text, schemas)
    key = hashlib.sha256(b"\0".join([__version__.encode(), code_stamp().encode(), schemas.fingerprint.encode(),
                                     text])).digest()
    kept = read_cache(folder / CONFIG_CACHE)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == key and isinstance(kept[1], Config):
        return kept[1]
    config = load_config(text, schemas)
    write_cache(folder / CONFIG_CACHE, (key, config))
    return config
