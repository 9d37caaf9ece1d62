"""One switch for the cyclic garbage collector while many long-lived objects are built.

Loading a register, reading a history pass and computing reports each allocate hundreds of thousands of
small objects that all live on and hold no reference cycles; the collector would re-scan the growing heap
every few thousand allocations (superlinear at 100,000 records). It is paused for those phases.

What a phase that made many objects built is then moved to the permanent generation (`gc.freeze`): the
objects live on either way, and without it the first collection after the pause scans all of them, once per
phase (4.7 s of the 21 s the reports took at 100,000 records, the reports being ten such phases). Objects
frozen are still freed by their reference counts; only a reference cycle among them would stay.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Allocations (the collector's young-generation count) from which a phase's objects are frozen at its end.
FREEZE_FROM = 100_000


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] >= FREEZE_FROM:
                gc.freeze()
            gc.enable()
