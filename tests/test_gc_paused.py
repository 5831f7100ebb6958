"""plan.gc_paused: the collector is off during a plan, collects once after it, and is left as it was found."""
from __future__ import annotations

import gc

import pytest

from dativo_infra.plan import gc_paused


@pytest.fixture
def collections():
    seen: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


@pytest.mark.parametrize("enabled", [True, False])
def test_off_during_one_full_collection_after_and_restored(collections, enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        with gc_paused():
            assert not gc.isenabled()
            garbage = [[] for _ in range(50_000)]  # far over the first generation's threshold: no collection while paused
            del garbage
            assert collections == []
        assert collections == [2] and gc.isenabled() is enabled
    finally:
        gc.enable()


def test_restored_when_the_plan_fails(collections):
    gc.enable()
    with pytest.raises(RuntimeError, match="the plan failed"), gc_paused():
        raise RuntimeError("the plan failed")
    assert gc.isenabled() and collections == [2]
