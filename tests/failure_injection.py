"""Inject a real failure into a unit of work: the n-th flush of any session of a factory raises.

A flush is a step of a multi-step operation (each service flushes what it has done so far), so
failing at flush 1, 2, … and checking that nothing changed shows that no step is committed on its
own. Used with the real app, real databases and real services — nothing is mocked.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from archive_service.db import load_models


class InjectedFailure(RuntimeError):
    pass


class FlushFailure:
    def __init__(self, factory):
        self.factory = factory
        self.fail_at: int | None = None
        self.flushes = 0
        self.fired = False

    def _after_flush(self, _session, _context):
        self.flushes += 1
        if self.fail_at is not None and self.flushes == self.fail_at:
            self.fired = True
            raise InjectedFailure(f"injected failure after step (flush) {self.flushes}")

    @contextmanager
    def armed(self, fail_at: int | None):
        """Count flushes inside the block; raise at flush ``fail_at`` (None: only count)."""
        self.fail_at, self.flushes, self.fired = fail_at, 0, False
        event.listen(self.factory, "after_flush", self._after_flush)
        try:
            yield self
        finally:
            event.remove(self.factory, "after_flush", self._after_flush)
            self.fail_at = None


def snapshot(factory) -> dict[str, list[tuple]]:
    """Every row of every table (content, not just counts), for before/after comparison."""
    metadata = load_models()
    out = {}
    with factory() as s:
        for table in metadata.sorted_tables:
            key = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in s.execute(select(table).order_by(*key))]
    return out


def diff(before: dict, after: dict) -> dict[str, str]:
    changed = {}
    for name in before:
        if before[name] != after[name]:
            added = set(after[name]) - set(before[name])
            removed = set(before[name]) - set(after[name])
            changed[name] = f"+{len(added)} -{len(removed)}: {sorted(map(str, added))[:2]}"
    return changed


def each_step_fails_cleanly(factory, operation, succeeded, max_steps: int = 200) -> int:
    """Run ``operation()`` with a failure injected after step 1, 2, … until it runs through; after
    every injected failure nothing in the database may have changed. Returns the number of steps.

    ``operation()`` returns what ``succeeded(result)`` judges (e.g. an HTTP response).
    """
    injector = FlushFailure(factory)
    for n in range(1, max_steps + 1):
        before = snapshot(factory)
        with injector.armed(n):
            result = operation()
        if not injector.fired:
            assert succeeded(result), f"the operation failed without an injected failure: {result}"
            assert n > 1, "the operation wrote nothing"
            return n - 1
        assert not succeeded(result), f"step {n}: the failure was swallowed"
        changed = diff(before, snapshot(factory))
        assert not changed, f"failure after step {n} left rows committed: {changed}"
    raise AssertionError(f"more than {max_steps} steps")
