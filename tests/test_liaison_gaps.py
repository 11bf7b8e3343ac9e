"""第二十一条 gap list: a filed liaison closes a gap only while active and holding the liaison role."""
from __future__ import annotations

from archive_service.directory import Directory, liaison_gaps


def test_a_liaison_who_lost_the_role_or_left_no_longer_closes_the_gap(rt, make):
    bureau = make.department("bureau")
    section = make.department("section", parent=bureau)
    regulator = make.department("regulator")
    make.link(section, regulator)
    ours = make.user(section, "liaison", "drafter")
    theirs = make.user(regulator, "liaison")
    make.liaison(ours, regulator)
    make.liaison(theirs, bureau)

    def gaps():
        with rt.factory() as s:
            return sorted(g.message for g in liaison_gaps(s))

    assert gaps() == []
    with rt.transaction() as s:
        Directory(s, rt.clock).set_roles(s.get(type(ours), ours.id), ["drafter"])
    assert gaps() == [f"{section.name} 尚未向 {regulator.name} 备案联络员"]
    with rt.transaction() as s:
        Directory(s, rt.clock).set_active(s.get(type(theirs), theirs.id), False)
    assert len(gaps()) == 2 and f"{regulator.name} 尚未向 {bureau.name} 备案联络员" in gaps()
