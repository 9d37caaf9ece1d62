"""One switch for the cyclic garbage collector while many long-lived objects are built.

Loading a register, reading a history pass and computing reports each allocate hundreds of thousands of
small objects that all live on and hold no reference cycles; the collector would re-scan the growing heap
every few thousand allocations (superlinear at 100,000 records). It is paused for those phases.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
