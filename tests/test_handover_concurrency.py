"""Two receivers accept the same manifest at once (PostgreSQL): one wins, the other is told 409."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from archive_service.errors import Conflict
from archive_service.handover.models import Handover
from archive_service.handover.service import handover_for
from archive_service.models import User
from archive_service.web.errors import STATUS
from handover_support import file_items, setup_fonds


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def test_two_receivers_accept_at_once_one_wins(rt, make, county):
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("row locks under concurrency: PostgreSQL leg")
    setup_fonds(rt)
    make.user(county["archivist"].department, "archivist", username="archivist2", full_name="档案员二")
    ids = file_items(rt, "zjj_staff", 3)
    with rt.factory() as s:
        svc = handover_for(rt, s)
        h = svc.create(_user(s, "zjj_staff"), "移交", "", "SPJ", ids)
        for who, action in (("zjj_staff", "submit"), ("zjj_leader", "sign"), ("archivist", "receive")):
            svc.act(_user(s, who), h, action, "同意")
        s.commit()
        hid = h.id

    first_moved, results = threading.Event(), {}
    a = rt.factory()
    svc_a = handover_for(rt, a)
    svc_a.act(_user(a, "archivist"), a.get(Handover, hid), "accept")  # row now locked, not committed
    first_moved.set()

    def second():
        with rt.factory() as b:
            svc_b = handover_for(rt, b)
            try:
                svc_b.act(_user(b, "archivist2"), b.get(Handover, hid), "accept")
                b.commit()
                results["b"] = "accepted"
            except Conflict as exc:
                b.rollback()
                results["b"] = (STATUS[exc.kind], exc.message)

    t = threading.Thread(target=second)
    t.start()
    t.join(timeout=1.0)
    assert t.is_alive(), "the second accept should wait for the first one's row lock"
    a.commit()
    a.close()
    t.join(timeout=30)
    status, message = results["b"]
    assert status == 409 and "已被他人处理" in message
    with rt.factory() as s:
        assert s.get(Handover, hid).state == "accepting"
