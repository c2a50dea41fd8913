"""What a serving process does around its work: hand the allocator's free memory back."""

from __future__ import annotations

import gc

import pytest

from revive.benchmark.memory import memory_mb
from revive.engine import preload


def test_freed_blocks_go_back_to_the_system_when_asked():
    if preload._malloc_trim() is None:
        pytest.skip("the C library has no malloc_trim (not glibc)")
    # blocks of a few kilobytes, as answering demands makes: under glibc's mmap threshold, so
    # they come from the heap, and freed they stay there
    blocks = [bytearray(4096) for _ in range(20_000)]  # 80 MB
    pin = bytearray(4096)  # made last: the heap's top stays in use, glibc cannot shrink it alone
    del blocks
    gc.collect()
    held = memory_mb()["rss"]
    assert preload.release_free_memory() is True
    released = held - memory_mb()["rss"]
    assert released > 40, f"only {released:.1f} MB of 80 MB freed went back"
    del pin


def test_a_worker_releases_free_memory_after_each_task(monkeypatch):
    from celery.signals import task_postrun

    import workers.signals as signals

    calls = []
    monkeypatch.setattr(signals, "release_free_memory", lambda: calls.append(1) or True)
    task_postrun.send(sender=None, task_id="t", task=None, args=(), kwargs={}, retval=None)
    assert calls == [1]


def test_a_failure_to_release_does_not_reach_the_task(monkeypatch, caplog):
    import workers.signals as signals

    def broken():
        raise OSError("no")

    monkeypatch.setattr(signals, "release_free_memory", broken)
    signals._release()  # logged, not raised
    assert "free memory" in caplog.text
