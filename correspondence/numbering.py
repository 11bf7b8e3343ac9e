"""发文字号: 机关代字 per department and kind, and a gapless per-year sequence taken at 登记.

Format ``代字〔YYYY〕N号`` (GB/T 9704: 〔〕 brackets, full year, no leading zeros, no 第). The bureau's
sections share the bureau's 代字 (see permissions.issuing_organisation), hence one sequence per 代字.
The sequence row is locked with SELECT … FOR UPDATE (PostgreSQL); SQLite serialises writers anyway.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive_service.audit import AuditLog
from archive_service.clock import Clock
from archive_service.errors import Unprocessable
from archive_service.models import Department, User
from archive_service.permissions import issuing_organisation, require_admin

from .models import KINDS, AgencyCode, NumberSequence

#: 代字 kinds: the letter kinds (函, 纪要) plus 收文 for the incoming-letter register (收文编号).
NUMBER_KINDS = {**KINDS, "incoming": "收文"}

NUMBER_RE = re.compile(r"^(?P<prefix>.+?)〔(?P<year>\d{4})〕(?P<seq>[1-9]\d*)号$")
_PREFIX_RE = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]{1,20}$")

# Demo defaults by department code (the county's 代字 for 函, 纪要 and 收文); an admin edits the table.
DEFAULT_PREFIXES = {
    "SPJ": {"letter": "石审批函", "minutes": "石审管纪", "incoming": "石审批收"},
    "SCJG": {"letter": "石市监函", "minutes": "石市监纪", "incoming": "石市监收"},
    "ZJJ": {"letter": "石住建函", "minutes": "石住建纪", "incoming": "石住建收"},
    "ZRZY": {"letter": "石自然资函", "minutes": "石自然资纪", "incoming": "石自然资收"},
    "STHJ": {"letter": "石环函", "minutes": "石环纪", "incoming": "石环收"},
    "WJW": {"letter": "石卫健函", "minutes": "石卫健纪", "incoming": "石卫健收"},
    "WGLY": {"letter": "石文广旅函", "minutes": "石文广旅纪", "incoming": "石文广旅收"},
    "SFJ": {"letter": "石司函", "minutes": "石司纪", "incoming": "石司收"},
    "WBB": {"letter": "石编办函", "minutes": "石编办纪", "incoming": "石编办收"},
}


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}〔{year}〕{seq}号"


class Numbering:
    def __init__(self, session: Session, clock: Clock):
        self.s = session
        self.clock = clock

    def prefix_for(self, department: Department, kind: str) -> str:
        org = issuing_organisation(department)
        row = self.s.scalar(select(AgencyCode).where(AgencyCode.department_id == org.id, AgencyCode.kind == kind))
        if row is not None:
            return row.prefix
        default = DEFAULT_PREFIXES.get(org.code, {}).get(kind)
        if default:
            return default
        if kind == "incoming":  # no 收文代字 set: derive it from the 函 代字 (石某函 → 石某收)
            try:
                return self.prefix_for(department, "letter").removesuffix("函") + "收"
            except Unprocessable:
                pass
        raise Unprocessable(f"{org.name}尚未设置{NUMBER_KINDS.get(kind, kind)}的机关代字，请联系系统管理员")

    def set_prefix(self, actor: User | None, department: Department, kind: str, prefix: str) -> AgencyCode:
        if actor is not None:
            require_admin(actor)
        prefix = (prefix or "").strip()
        if kind not in NUMBER_KINDS:
            raise Unprocessable(f"未知文种：{kind}")
        if not _PREFIX_RE.match(prefix):
            raise Unprocessable("机关代字为 1–20 个汉字、字母或数字，例如“石审批函”")
        if department.kind == "section":
            raise Unprocessable("审批股室使用审批局的机关代字，请为审批局设置")
        row = self.s.scalar(select(AgencyCode).where(AgencyCode.department_id == department.id,
                                                     AgencyCode.kind == kind))
        before = row.prefix if row else None
        if row is None:
            row = AgencyCode(department_id=department.id, kind=kind, prefix=prefix)
            self.s.add(row)
        else:
            row.prefix = prefix
        self.s.flush()
        AuditLog(self.s, self.clock).record(actor, "letters.agency_code_set", "department", department.id,
                                            {"kind": kind, "before": before, "prefix": prefix})
        return row

    def table(self) -> list[tuple[Department, str, str]]:
        """Every non-section department with its effective 代字 per kind (for the admin page)."""
        rows = []
        for dept in self.s.scalars(select(Department).where(Department.kind != "section").order_by(Department.id)):
            for kind in NUMBER_KINDS:
                try:
                    rows.append((dept, kind, self.prefix_for(dept, kind)))
                except Unprocessable:
                    rows.append((dept, kind, ""))
        return rows

    def next_number(self, prefix: str, year: int) -> tuple[str, int]:
        """Take the next number of ``prefix`` in ``year`` inside the caller's transaction."""
        seq = self._locked_sequence(prefix, year)
        seq.last += 1
        self.s.flush()
        return format_number(prefix, year, seq.last), seq.last

    def _locked_sequence(self, prefix: str, year: int) -> NumberSequence:
        q = select(NumberSequence).where(NumberSequence.prefix == prefix, NumberSequence.year == year)
        row = self.s.scalar(q.with_for_update())
        if row is not None:
            return row
        # Create the row unless another transaction did (no savepoint: with pysqlite a savepoint taken
        # before the first write would commit on its own, outside the caller's unit of work).
        insert = sqlite_insert if self.s.get_bind().dialect.name == "sqlite" else pg_insert
        self.s.execute(insert(NumberSequence).values(prefix=prefix, year=year, last=0)
                       .on_conflict_do_nothing(index_elements=["prefix", "year"]))
        return self.s.scalars(q.with_for_update().execution_options(populate_existing=True)).one()
