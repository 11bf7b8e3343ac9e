"""全宗 (fonds) per organisation and its 机构(问题)代码 list, and which organisation holds a department's
archive (a section files into its bureau's fonds). Services flush and never commit."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import permissions
from ..audit import AuditLog
from ..clock import Clock
from ..errors import Conflict, Unprocessable
from ..models import Department, User
from .codes import UNIT_RE
from .models import ArchiveItem, Fonds, FondsUnit


def holding_organisation(dept: Department) -> Department:
    return permissions.issuing_organisation(dept)


class Fondses:
    """全宗号 per organisation and its 机构(问题)代码 list (administrators set them)."""

    def __init__(self, session: Session, clock: Clock):
        self.s, self.clock = session, clock
        self._known: dict[int, Fonds] = {}

    def for_department(self, dept: Department) -> Fonds:
        org = holding_organisation(dept)
        fonds = self._known.get(org.id)
        if fonds is not None and fonds in self.s and fonds.department_id == org.id:
            return fonds  # one look-up per organisation and unit of work (a bulk import files thousands)
        fonds = self.s.scalar(select(Fonds).where(Fonds.department_id == org.id))
        if fonds is not None:
            self._known[org.id] = fonds
        if fonds is None:
            raise Unprocessable(f"{org.name}尚未设置全宗号，请联系系统管理员")
        return fonds

    def set(self, actor: User | None, dept: Department, code: str, units: list[tuple[str, str, int | None]],
            name: str | None = None) -> Fonds:
        if actor is not None:
            permissions.require_admin(actor)
        if dept.kind == "section":
            raise Unprocessable("审批股室属于审批局全宗，请为审批局设置")
        code = (code or "").strip().upper()
        if not (len(code) == 4 and code.isalnum() and code.isascii()):
            raise Unprocessable("全宗号为 4 位字母或数字，例如 J012")
        if not units:
            raise Unprocessable("至少需要一个机构（问题）代码")
        for ucode, _name, _ in units:
            if not UNIT_RE.match(ucode or ""):
                raise Unprocessable(f"机构代码“{ucode}”应为 1–10 位大写字母或数字")
        fonds = self.s.scalar(select(Fonds).where(Fonds.department_id == dept.id))
        before = None
        if fonds is None:
            fonds = Fonds(department_id=dept.id, code=code, name=name or dept.name)
            self.s.add(fonds)
        else:
            before = {"code": fonds.code, "units": [u.code for u in fonds.units]}
            if fonds.code != code and self.s.scalar(select(func.count()).select_from(ArchiveItem)
                                                    .where(ArchiveItem.fonds_id == fonds.id)):
                raise Conflict("该全宗已有档案，不能修改全宗号")
            fonds.code, fonds.name = code, name or fonds.name
        existing = {u.code: u for u in fonds.units}
        wanted = {u[0] for u in units}
        for code_, unit_row in existing.items():
            if code_ not in wanted:
                fonds.units.remove(unit_row)
        for pos, (ucode, uname, dept_id) in enumerate(units):
            u = existing.get(ucode)
            if u is None:
                u = FondsUnit(code=ucode)
                fonds.units.append(u)
            u.name, u.department_id, u.position = uname, dept_id, pos
        try:
            self.s.flush()
        except IntegrityError:
            raise Conflict(f"全宗号 {code} 已被使用") from None
        AuditLog(self.s, self.clock).record(actor, "archive.fonds_set", "department", dept.id, {
            "before": before, "code": code, "units": [u[0] for u in units]})
        return fonds

    def all(self) -> list[Fonds]:
        return list(self.s.scalars(select(Fonds).order_by(Fonds.code)))
