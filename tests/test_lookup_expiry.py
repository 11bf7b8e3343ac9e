"""Expiry: two workers expiring grants at the same moment expire each request once and revoke each
grant once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite serialises the writers)."""
from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select

from archive_service.clock import FixedClock
from archive_service.lookup.models import LookupRequest
from archive_service.lookup.service import LookupService, expiry_pass
from archive_service.models import AuditEvent, DocumentGrant, OutboxEntry, User
from archive_support import arch_clients, arch_people  # noqa: F401  (fixtures)
from lookup_support import shared_item

THU = datetime(2026, 2, 12, 2, 0)
REQUESTERS = ("scjg_staff", "zrzy_staff", "wjw_staff", "sthj_staff", "wgly_staff", "sfj_staff")


def test_two_workers_expire_each_request_once(rt, arch_clients):  # noqa: F811
    rt.clock = FixedClock(THU)
    items = [shared_item(arch_clients, "zjj_staff", f"验收材料{i}") for i in range(4)]
    with rt.transaction() as s:
        svc = LookupService(s, rt.clock)
        holder = s.scalar(select(User).where(User.username == "zjj_staff"))
        for who in REQUESTERS:
            user = s.scalar(select(User).where(User.username == who))
            for item in items:
                req = svc.create(user, [(item["id"], "view")], "核查", 1, "0797-1")
                svc.act(holder, req, "approve")
    with rt.factory() as s:
        live = s.scalar(select(func.count()).select_from(DocumentGrant).where(DocumentGrant.reason == "lookup"))
        assert live == len(REQUESTERS) * len(items) * 2  # the main file and its 归档章 copy
    outbox_before = _count(rt, OutboxEntry)

    rt.clock.at = datetime(2026, 2, 13, 16, 0)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        results.append(expiry_pass(rt))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n = len(REQUESTERS) * len(items)
    assert sum(results) == n, results
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(DocumentGrant).where(DocumentGrant.reason == "lookup")) == 0
        states = s.scalars(select(LookupRequest.state)).all()
        assert states == ["expired"] * n
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "lookup.expired")).all()
        import json

        assert sum(json.loads(e.details)["requests"] for e in events) == n
        assert sum(json.loads(e.details)["grants_revoked"] for e in events) == n * 2
    assert _count(rt, OutboxEntry) - outbox_before == len(items) * 2  # each document re-indexed
    assert expiry_pass(rt) == 0


def _count(rt, model) -> int:
    with rt.factory() as s:
        return s.scalar(select(func.count()).select_from(model))
