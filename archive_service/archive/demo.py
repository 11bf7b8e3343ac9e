"""Demo 全宗号 and 机构(问题)代码 (one fonds per organisation; the bureau's sections as units)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..models import Department
from .fonds import Fondses
from .models import Fonds

DEMO_FONDS = {"SPJ": "J001", "SCJG": "J011", "ZJJ": "J012", "ZRZY": "J013", "STHJ": "J014", "WJW": "J015",
              "WGLY": "J016", "SFJ": "J021", "WBB": "J022"}
BUREAU_UNITS = [("BGS", "办公室", "SPJBGS"), ("SCZR", "市场准入审批股", "SCZR"), ("TZJS", "投资建设审批股", "TZJS"),
                ("SHSW", "社会事务审批股", "SHSW")]


def load_archive_demo(session: Session, clock: Clock) -> bool:
    """Create the demo fonds once (flushes; the caller commits); False when already there."""
    if session.scalar(select(Fonds.id).limit(1)) is not None:
        return False
    depts = {d.code: d for d in session.scalars(select(Department))}
    fondses = Fondses(session, clock)
    for code, fonds in DEMO_FONDS.items():
        dept = depts.get(code)
        if dept is None:
            continue
        if code == "SPJ":
            units = [(u, name, depts[d].id if d in depts else None) for u, name, d in BUREAU_UNITS]
        else:
            units = [("BGS", "办公室", dept.id)]
        fondses.set(None, dept, fonds, units)
    return True
