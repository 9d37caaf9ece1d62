"""bir.base.gcpause: the collector paused while long-lived objects are built, and what a large phase built
set aside from it afterwards (so the first collection after each phase does not scan it all)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bir.base.gcpause import FREEZE_FROM, gc_paused


@pytest.fixture(autouse=True)
def _collector() -> Iterator[None]:
    gc.collect()
    before = gc.isenabled()
    yield
    gc.unfreeze()
    if before:
        gc.enable()


@pytest.mark.parametrize(("objects", "frozen"), [(10, False), (FREEZE_FROM * 2, True)], ids=["small-phase", "large-phase"])
def test_a_large_phase_is_set_aside_from_the_collector(objects: int, frozen: bool) -> None:
    gc.enable()
    gc.unfreeze()
    start = gc.get_freeze_count()
    with gc_paused():
        assert not gc.isenabled()
        built = [[i] for i in range(objects)]  # lists are tracked by the collector
    assert gc.isenabled()
    assert (gc.get_freeze_count() - start >= objects) is frozen
    assert len(built) == objects


def test_a_phase_inside_a_paused_one_leaves_the_collector_paused() -> None:
    gc.disable()
    start = gc.get_freeze_count()
    with gc_paused():
        built = [[i] for i in range(FREEZE_FROM * 2)]
    assert not gc.isenabled() and gc.get_freeze_count() == start and len(built) == FREEZE_FROM * 2
