"""Departments, users, roles and the liaison registry (第二十一条) — the administrator's domain."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from . import permissions
from .audit import AuditLog
from .auth import end_sessions, hash_password
from .clock import Clock
from .errors import Conflict, NotFound, Unprocessable
from .models import DEPARTMENT_KINDS, ROLES, SEPARATED_ROLES, CorrespondenceLink, Department, Liaison, User, UserRole

_CODE = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff]{1,20}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,64}$")


def find_department(session: Session, code_or_name: str) -> Department:
    dept = session.scalar(select(Department).where(
        or_(Department.code == code_or_name, Department.name == code_or_name)))
    if dept is None:
        raise NotFound(f"部门不存在：{code_or_name}")
    return dept


def _full_name(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > 100:
        raise Unprocessable("部门全称不超过 100 字", field="full_name")
    return value


def parse_roles(roles) -> list[str]:
    keys = []
    for r in roles:
        for part in str(r).replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if part not in ROLES:
                raise Unprocessable(f"未知角色：{part}（可选：{'、'.join(ROLES)}）")
            keys.append(part)
    keys = sorted(set(keys))
    check_separation(keys)
    return keys


def check_separation(keys) -> None:
    """三员分立: 系统管理员, 安全审计员 and 安全保密管理员 are never held by one user (422 with the reason)."""
    held = [ROLES[k] for k in SEPARATED_ROLES if k in set(keys)]
    if len(held) > 1:
        raise Unprocessable(f"{'与'.join(held)}不能由同一人兼任（三员分立：系统管理员、安全审计员、"
                            "安全保密管理员须分设，互相监督）", field="roles")


class Directory:
    def __init__(self, session: Session, clock: Clock, actor: User | None = None):
        self.s = session
        self.clock = clock
        self.actor = actor
        self.audit = AuditLog(session, clock)

    def row(self, model: type[Department] | type[User] | type[Liaison], key: int, missing: str | None = None):
        """A department, user or liaison filing by id (404 with ``missing`` when absent)."""
        row = self.s.get(model, key)
        if row is None:
            raise NotFound(missing)
        return row

    # -- departments -----------------------------------------------------------------------------
    def add_department(self, name: str, code: str, kind: str, parent: Department | None = None,
                       full_name: str = "") -> Department:
        """A department; ``full_name`` is its 全称 (石城县行政审批局) beside the display ``name``."""
        name, code, full_name = (name or "").strip(), (code or "").strip(), _full_name(full_name)
        if not name or len(name) > 100:
            raise Unprocessable("部门名称不能为空且不超过 100 字")
        if not _CODE.match(code):
            raise Unprocessable("部门代码为 1–20 位字母、数字或汉字")
        if kind not in DEPARTMENT_KINDS:
            raise Unprocessable(f"未知部门类型：{kind}")
        if kind == "section" and (parent is None or parent.kind != "bureau"):
            raise Unprocessable("审批股室必须隶属于审批局")
        if self.s.scalar(select(Department).where(or_(Department.name == name, Department.code == code))):
            raise Conflict("部门名称或代码已存在")
        dept = Department(name=name, code=code, kind=kind, parent=parent, full_name=full_name,
                          created_at=self.clock.now())
        self.s.add(dept)
        self.s.flush()
        self.audit.record(self.actor, "admin.department_added", "department", dept.id,
                          {"name": name, "code": code, "kind": kind, "full_name": full_name})
        return dept

    def update_department(self, dept: Department, name: str, code: str, kind: str,
                          full_name: str | None = None) -> Department:
        """Change a department; ``full_name`` None keeps its 全称."""
        name, code = (name or "").strip(), (code or "").strip()
        full_name = dept.full_name if full_name is None else _full_name(full_name)
        if not name or not _CODE.match(code) or kind not in DEPARTMENT_KINDS:
            raise Unprocessable("部门名称、代码或类型无效")
        clash = self.s.scalar(select(Department).where(
            or_(Department.name == name, Department.code == code), Department.id != dept.id))
        if clash:
            raise Conflict("部门名称或代码已存在")
        before = {"name": dept.name, "code": dept.code, "kind": dept.kind, "full_name": dept.full_name}
        dept.name, dept.code, dept.kind, dept.full_name = name, code, kind, full_name
        self.audit.record(self.actor, "admin.department_updated", "department", dept.id, {
            "before": before, "after": {"name": name, "code": code, "kind": kind, "full_name": full_name}})
        return dept

    # -- users -----------------------------------------------------------------------------------
    def add_user(self, username: str, full_name: str, department: Department, roles, password: str | None = None,
                 password_hash: str | None = None) -> User:
        """Add a user; ``password_hash`` lets a caller reuse one argon2 hash (the demo's shared password)."""
        username = (username or "").strip()
        if not _USERNAME.match(username):
            raise Unprocessable("用户名为 2–64 位字母、数字、汉字或 _ . -")
        if self.s.scalar(select(User).where(User.username == username)):
            raise Conflict(f"用户名已存在：{username}")
        keys = parse_roles(roles)
        user = User(username=username, full_name=(full_name or username).strip()[:64], department=department,
                    password_hash=password_hash or hash_password(password or ""), active=True,
                    created_at=self.clock.now())
        user.role_rows = [UserRole(role=k) for k in keys]
        self.s.add(user)
        self.s.flush()
        self.audit.record(self.actor, "admin.user_added", "user", user.id,
                          {"username": username, "department": department.code, "roles": keys})
        return user

    def set_roles(self, user: User, roles) -> None:
        permissions.require_not_self(self.actor, user, "角色")
        keys = parse_roles(roles)
        before = sorted(user.roles)
        user.role_rows = [UserRole(role=k) for k in keys]
        if keys != before:
            end_sessions(self.s, self.clock, user)
        self.audit.record(self.actor, "admin.roles_changed", "user", user.id, {"before": before, "after": keys})

    def set_active(self, user: User, active: bool) -> None:
        user.active = active
        if not active:
            end_sessions(self.s, self.clock, user)
        self.audit.record(self.actor, "admin.user_activated" if active else "admin.user_deactivated", "user", user.id)

    def set_password(self, user: User, password: str) -> None:
        user.password_hash = hash_password(password)
        end_sessions(self.s, self.clock, user)
        self.audit.record(self.actor, "admin.password_set", "user", user.id)

    def move_user(self, user: User, department: Department) -> None:
        permissions.require_not_self(self.actor, user, "部门")
        before = user.department_id
        user.department = department
        if department.id != before:
            end_sessions(self.s, self.clock, user)
        self.audit.record(self.actor, "admin.user_moved", "user", user.id, {"from": before, "to": department.id})

    # -- liaison registry (第二十一条) ------------------------------------------------------------
    def link(self, section: Department, regulator: Department) -> None:
        if section.kind != "section" or regulator.kind != "regulator":
            raise Unprocessable("对应关系须为审批股室与监管部门")
        if self.s.get(CorrespondenceLink, (section.id, regulator.id)):
            raise Conflict("对应关系已存在")
        self.s.add(CorrespondenceLink(section_id=section.id, regulator_id=regulator.id))
        self.audit.record(self.actor, "admin.link_added", "department", section.id, {"regulator": regulator.id})

    def unlink(self, section: Department, regulator: Department) -> None:
        row = self.s.get(CorrespondenceLink, (section.id, regulator.id))
        if row is None:
            raise NotFound("对应关系不存在")
        self.s.delete(row)
        self.audit.record(self.actor, "admin.link_removed", "department", section.id, {"regulator": regulator.id})

    def file_liaison(self, user: User, filed_with: Department, phone: str = "", on: date | None = None) -> Liaison:
        if "liaison" not in user.roles:
            raise Unprocessable(f"{user.full_name} 没有联络员角色")
        if filed_with.id == user.department_id:
            raise Unprocessable("联络员应向其他部门备案")
        if self.s.scalar(select(Liaison).where(Liaison.user_id == user.id, Liaison.filed_with_id == filed_with.id)):
            raise Conflict("该联络员已向此部门备案")
        row = Liaison(user=user, department_id=user.department_id, filed_with=filed_with,
                      phone=(phone or "").strip()[:40], filed_on=on or self.clock.today())
        self.s.add(row)
        self.s.flush()
        self.audit.record(self.actor, "admin.liaison_filed", "liaison", row.id,
                          {"user": user.username, "filed_with": filed_with.code})
        return row

    def withdraw_liaison(self, row: Liaison) -> None:
        self.audit.record(self.actor, "admin.liaison_withdrawn", "liaison", row.id,
                          {"user": row.user.username, "filed_with": row.filed_with.code})
        self.s.delete(row)


@dataclass(frozen=True)
class LiaisonGap:
    department: Department
    filed_with: Department

    @property
    def message(self) -> str:
        return f"{self.department.name} 尚未向 {self.filed_with.name} 备案联络员"


def liaison_gaps(session: Session) -> list[LiaisonGap]:
    """Pairs that 第二十一条 requires and that have no active liaison on file."""
    depts = {d.id: d for d in session.execute(select(Department)).scalars()}
    # a filing counts while its user is active, still holds the liaison role and still works there
    filed = {(row.department_id, row.filed_with_id) for row in session.scalars(_active_filings())}
    gaps: list[LiaisonGap] = []
    for link in session.execute(select(CorrespondenceLink)).scalars():
        if (link.section_id, link.regulator_id) not in filed:
            gaps.append(LiaisonGap(depts[link.section_id], depts[link.regulator_id]))
    bureaus = [d for d in depts.values() if d.kind == "bureau"]
    for reg in sorted((d for d in depts.values() if d.kind == "regulator"), key=lambda d: d.id):
        for bureau in bureaus:
            # a regulator's liaison may be filed with the bureau or with any of its sections
            bureau_ids = {bureau.id} | {d.id for d in depts.values() if d.parent_id == bureau.id}
            if not any((reg.id, b) in filed for b in bureau_ids):
                gaps.append(LiaisonGap(reg, bureau))
    return gaps


KIND_ORDER = {"regulator": 0, "bureau": 1, "other": 2, "section": 3}


def addressable_departments(session: Session, user: User | None = None) -> list[Department]:
    """Departments a letter may be addressed to (not the user's own organisation), regulators first."""
    rows = sorted(session.scalars(select(Department)), key=lambda d: (KIND_ORDER.get(d.kind, 9), d.id))
    if user is not None:
        rows = [d for d in rows if not permissions.same_organisation(d, user.department)]
    return rows


def active_users(session: Session, department_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.department_id == department_id, User.active.is_(True))
                                .order_by(User.id)))


def organisation_users(session: Session, department_id: int) -> list[User]:
    """Active users of the department's organisation: a bureau with its sections (handlers, 传阅)."""
    dept = session.get_one(Department, department_id)
    org = permissions.issuing_organisation(dept)
    ids = [org.id, *session.scalars(select(Department.id).where(Department.parent_id == org.id))]
    return list(session.scalars(select(User).where(User.department_id.in_(ids), User.active.is_(True))
                                .order_by(User.department_id, User.id)))


def find_user(session: Session, ref) -> User | None:
    """A user by id or user name (None when there is none)."""
    if ref is None or ref == "":
        return None
    if str(ref).isdigit():
        return session.get(User, int(ref)) if int(ref) <= 2**31 - 1 else None
    return session.scalar(select(User).where(User.username == str(ref)))


# -- reading, for the administrator's and the meetings' pages --------------------------------------
def departments_by_kind(session: Session, kinds: tuple[str, ...] | None = None) -> list[Department]:
    q = select(Department).order_by(Department.kind, Department.id)
    if kinds is not None:
        q = q.where(Department.kind.in_(kinds))
    return list(session.scalars(q))


def organisations(session: Session, by_code: bool = False) -> list[Department]:
    """The departments that are organisations (机关: not sections), by id or by code."""
    return list(session.scalars(select(Department).where(Department.kind != "section")
                                .order_by(Department.code if by_code else Department.id)))


def get_department(session: Session, dept_id: int) -> Department:
    dept = session.get(Department, dept_id)
    if dept is None:
        raise NotFound("部门不存在")
    return dept


def all_users(session: Session, active_only: bool = False) -> list[User]:
    q = select(User).order_by(User.department_id, User.id)
    if active_only:
        q = q.where(User.active.is_(True))
    return list(session.scalars(q))


def _active_filings() -> Select[Liaison]:
    """Filings that count (第二十一条): the user is active, holds the liaison role and still works there."""
    return (select(Liaison).join(User, Liaison.user_id == User.id)
            .join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == "liaison"))
            .where(User.active.is_(True), User.department_id == Liaison.department_id))


def liaison_directory(session: Session) -> list[Liaison]:
    """Every filing that counts, by department: the directory every logged-in user sees."""
    return list(session.scalars(_active_filings().order_by(Liaison.department_id, Liaison.filed_with_id,
                                                            Liaison.id)))


def filed_liaisons(session: Session, department_id: int, filed_with_ids) -> list[User]:
    """The department's liaisons filed with one of ``filed_with_ids`` (in that order of preference),
    else its other filed liaisons: whom work sent to the department goes to first."""
    rows = list(session.scalars(_active_filings().where(Liaison.department_id == department_id)
                                .order_by(Liaison.id)))
    order = {d: i for i, d in enumerate(filed_with_ids)}
    rows.sort(key=lambda r: order.get(r.filed_with_id, len(order)))
    users: list[User] = []
    for r in rows:
        if r.user not in users:
            users.append(r.user)
    return users


def filed_liaisons_of(session: Session, department_ids, filed_with_ids) -> dict[int, list[User]]:
    """``filed_liaisons`` for several departments in one query (a push to several regulators)."""
    rows = list(session.scalars(_active_filings().where(Liaison.department_id.in_(list(department_ids)))
                                .order_by(Liaison.id)))
    order = {d: i for i, d in enumerate(filed_with_ids)}
    rows.sort(key=lambda r: order.get(r.filed_with_id, len(order)))
    out: dict[int, list[User]] = {d: [] for d in department_ids}
    for r in rows:
        if r.user not in out[r.department_id]:
            out[r.department_id].append(r.user)
    return out


def can_maintain_liaisons(actor: User, department: Department) -> bool:
    """An administrator, or the department's own signer (its leader) or liaison, files and withdraws."""
    if permissions.can_administer(actor):
        return True
    return actor.department_id == department.id and permissions.has_role(actor, "signer", "liaison")


def liaison_registry(session: Session) -> tuple[list[Liaison], list[CorrespondenceLink]]:
    """Every filed liaison and every section ↔ regulator link."""
    return (list(session.scalars(select(Liaison).order_by(Liaison.department_id, Liaison.id))),
            list(session.scalars(select(CorrespondenceLink))))


def find_user_by_name(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def find_department_ref(session: Session, ref: str) -> Department | None:
    """A department by code or full name (None when there is none)."""
    return session.scalar(select(Department).where((Department.code == ref) | (Department.name == ref)))


class Roster:
    """The directory's look-ups bound to one session (a unit of work): departments, people and
    liaisons, as the views reach them through the service registry (``services().roster``)."""

    def __init__(self, session: Session):
        self.s = session

    def find_department(self, code_or_name: str) -> Department:
        return find_department(self.s, code_or_name)

    def find_department_ref(self, ref: str) -> Department | None:
        return find_department_ref(self.s, ref)

    def get_department(self, dept_id: int) -> Department:
        return get_department(self.s, dept_id)

    def departments_by_kind(self, kinds: tuple[str, ...] | None = None) -> list[Department]:
        return departments_by_kind(self.s, kinds)

    def organisations(self, by_code: bool = False) -> list[Department]:
        return organisations(self.s, by_code)

    def addressable_departments(self, user: User | None = None) -> list[Department]:
        return addressable_departments(self.s, user)

    def find_user(self, ref) -> User | None:
        return find_user(self.s, ref)

    def find_user_by_name(self, username: str) -> User | None:
        return find_user_by_name(self.s, username)

    def all_users(self, active_only: bool = False) -> list[User]:
        return all_users(self.s, active_only)

    def active_users(self, department_id: int) -> list[User]:
        return active_users(self.s, department_id)

    def organisation_users(self, department_id: int) -> list[User]:
        return organisation_users(self.s, department_id)

    def liaison_gaps(self) -> list[LiaisonGap]:
        return liaison_gaps(self.s)

    def liaison_directory(self) -> list[Liaison]:
        return liaison_directory(self.s)

    def liaison_registry(self) -> tuple[list[Liaison], list[CorrespondenceLink]]:
        return liaison_registry(self.s)
