"""The 审管互动 exchange: the matter register, pushes of approval results (第二十六条) with claim and
automatic claim, and revocation requests (第二十八条). Services flush and never commit."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import cast

from sqlalchemy import CursorResult, Table, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from archive_service import permissions
from archive_service.audit import AuditLog
from archive_service.clock import Clock
from archive_service.directory import filed_liaisons, filed_liaisons_of
from archive_service.errors import Conflict, Forbidden, NotFound, Unprocessable
from archive_service.models import Department, Document, DocumentGrant, User
from archive_service.workdays import load_calendar

from . import counts
from .models import (
    DECISIONS,
    FEEDBACK_KINDS,
    INFO_DAYS,
    PUSH_DAYS,
    REVOCATION_ACTIONS,
    REVOCATION_DAYS,
    ApprovalRecord,
    ExchangeNotification,
    Feedback,
    FeedbackDocument,
    InfoDocument,
    InfoRequest,
    Mailbox,
    Matter,
    MatterRegulator,
    Push,
    RecordDocument,
    Revocation,
    RevocationDocument,
)

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,185}\.[A-Za-z]{2,}$")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
IMPORT_COLUMNS = ("事项编码", "事项名称", "审批股室", "监管部门", "划转来源", "划转日期")
MAX_IMPORT_ROWS = 5000


def _department(session: Session, ref: str) -> Department:
    ref = (ref or "").strip()
    dept = session.scalar(select(Department).where(or_(Department.code == ref, Department.name == ref)))
    if dept is None:
        raise Unprocessable(f"部门不存在：{ref}")
    return dept


def _departments(session: Session, refs: Sequence[str]) -> list[Department]:
    """Departments by code or name, in the order given (one query)."""
    refs = [(r or "").strip() for r in refs]
    found = list(session.scalars(select(Department).where(or_(Department.code.in_(refs), Department.name.in_(refs)))))
    out = []
    for ref in refs:
        dept = next((d for d in found if ref in (d.code, d.name)), None)
        if dept is None:
            raise Unprocessable(f"部门不存在：{ref}")
        out.append(dept)
    return out


class ExchangeService:
    def __init__(self, session: Session, clock: Clock):
        self.s = session
        self.clock = clock

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.s, self.clock)

    # -- matter register (事项清单) -----------------------------------------------------------------
    def matters(self) -> list[Matter]:
        return list(self.s.scalars(select(Matter).options(
            selectinload(Matter.regulators).selectinload(MatterRegulator.regulator),
            selectinload(Matter.section)).order_by(Matter.code)))

    def matter(self, matter_id: int) -> Matter:
        m = self.s.get(Matter, matter_id)
        if m is None:
            raise NotFound("审批事项不存在")
        return m

    def save_matter(self, actor: User, *, code: str, name: str, section: str, regulators: Sequence[str],
                    transferred_from: str = "", transferred_on: date | None = None) -> Matter:
        """Add a matter, or update the one with this code (administrators only)."""
        permissions.require_admin(actor)
        code, name = (code or "").strip(), (name or "").strip()
        if not code or not name:
            raise Unprocessable("事项编码和事项名称不能为空", field="code" if not code else "name")
        sec = _department(self.s, section)
        if sec.kind not in {"bureau", "section"}:
            raise Unprocessable(f"{sec.name}不是审批局或其审批股室", field="section")
        regs = []
        for ref in regulators:
            reg = _department(self.s, ref)
            if reg.kind != "regulator":
                raise Unprocessable(f"{reg.name}不是监管部门", field="regulators")
            if reg not in regs:
                regs.append(reg)
        matter = self.s.scalar(select(Matter).where(Matter.code == code))
        created = matter is None
        if matter is None:
            matter = Matter(code=code, created_at=self.clock.now())
            self.s.add(matter)
        matter.name, matter.section_id = name[:200], sec.id
        matter.transferred_from, matter.transferred_on = (transferred_from or "").strip()[:100], transferred_on
        matter.regulators = [MatterRegulator(regulator_id=r.id) for r in regs]
        self.s.flush()
        self.audit.record(actor, "exchange.matter_added" if created else "exchange.matter_changed", "matter",
                          matter.id, {"code": code, "name": matter.name, "section": sec.code,
                                      "regulators": [r.code for r in regs]})
        return matter

    def import_matters(self, actor: User, filename: str, data: bytes) -> int:
        """Import the register from CSV (UTF-8, with or without BOM; or GB18030) or XLSX; columns
        事项编码, 事项名称, 审批股室, 监管部门 (several separated by 、), 划转来源, 划转日期. Returns rows saved."""
        permissions.require_admin(actor)
        rows = list(_read_table(filename, data))
        if not rows:
            raise Unprocessable("文件中没有数据行")
        header = [str(c or "").strip() for c in rows[0]]
        missing = [c for c in IMPORT_COLUMNS[:4] if c not in header]
        if missing:
            raise Unprocessable(f"缺少列：{'、'.join(missing)}（应为 {'、'.join(IMPORT_COLUMNS)}）")
        if len(rows) - 1 > MAX_IMPORT_ROWS:
            raise Unprocessable(f"一次最多导入 {MAX_IMPORT_ROWS} 行")
        idx = {c: header.index(c) for c in IMPORT_COLUMNS if c in header}
        saved = 0
        for n, row in enumerate(rows[1:], start=2):
            cells = [("" if c is None else c) for c in row] + [""] * len(header)
            if not any(str(c).strip() for c in cells):
                continue

            def cell(col: str, cells=cells):
                return cells[idx[col]] if col in idx else ""

            on = cell("划转日期")
            try:
                transferred_on = _as_date(on)
            except ValueError:
                raise Unprocessable(f"第 {n} 行：划转日期格式应为 YYYY-MM-DD") from None
            try:
                self.save_matter(actor, code=str(cell("事项编码")), name=str(cell("事项名称")),
                                 section=str(cell("审批股室")),
                                 regulators=[r for r in re.split(r"[、,，;；/\s]+", str(cell("监管部门"))) if r],
                                 transferred_from=str(cell("划转来源")), transferred_on=transferred_on)
            except Unprocessable as exc:
                raise Unprocessable(f"第 {n} 行：{exc.message}") from None
            saved += 1
        return saved

    # -- pushes (第二十六条) ------------------------------------------------------------------------
    def push(self, actor: User, *, matter_id: int, applicant: str, credit_code: str, licence_no: str,
             decision: str, decided_on: date, document_ids: Sequence[int] = (),
             regulators: Sequence[str] | None = None) -> list[Push]:
        """Record an approval result and push it to the regulators the register names (or the chosen
        ones): one push per regulator, due 5 working days after the push date."""
        if actor.department.kind not in {"bureau", "section"} or not permissions.has_role(
                actor, "drafter", "reviewer", "signer", "liaison"):
            raise Forbidden("只有县行政审批局及其股室的经办人员可以推送审批结果")
        matter = self.s.get(Matter, matter_id)
        if matter is None:
            raise Unprocessable("审批事项不存在", field="matter_id")
        if decision not in DECISIONS:
            raise Unprocessable("审批决定应为：" + "、".join(f"{k} {v}" for k, v in DECISIONS.items()),
                                field="decision")
        if not CREDIT_CODE.match(credit_code or ""):
            raise Unprocessable("统一社会信用代码应为18位", field="credit_code")
        if decided_on > self.clock.today():
            raise Unprocessable("决定日期不能晚于今天", field="decided_on")
        if regulators:
            regs = []
            for reg in _departments(self.s, regulators):
                if reg.kind != "regulator":
                    raise Unprocessable(f"{reg.name}不是监管部门", field="regulators")
                if reg not in regs:
                    regs.append(reg)
        else:
            regs = [mr.regulator for mr in matter.regulators]
        if not regs:
            raise Unprocessable(f"事项“{matter.name}”在事项清单中没有监管部门，请选择推送的监管部门",
                                field="regulators")
        docs = self._readable_documents(actor, document_ids, "附件")
        now, today = self.clock.now(), self.clock.today()
        record = ApprovalRecord(matter_id=matter.id, department_id=actor.department_id,
                                applicant=applicant.strip(), credit_code=credit_code,
                                licence_no=(licence_no or "").strip(), decision=decision, decided_on=decided_on,
                                created_by=actor.id, created_at=now, matter=matter,
                                documents=[RecordDocument(document_id=d.id) for d in docs])
        self.s.add(record)
        due = load_calendar(self.s).add_workdays(today, PUSH_DAYS)
        org = permissions.issuing_organisation(actor.department)
        routed = filed_liaisons_of(self.s, [r.id for r in regs], [actor.department_id, matter.section_id, org.id])
        # relationships set (empty collections included) so that answering with the pushes loads nothing
        pushes = [Push(record=record, regulator=r, pushed_at=now, pushed_on=today, due_on=due, state="unclaimed",
                       claim_late=False, note="", liaison_id=routed[r.id][0].id if routed[r.id] else None,
                       feedback=[], info_requests=[]) for r in regs]
        self.s.add_all(pushes)
        self.s.flush()
        notes = []
        for p, r in zip(pushes, regs, strict=True):
            to = f"，联络员：{routed[r.id][0].full_name}" if routed[r.id] else ""
            notes.append({"department_id": r.id, "push_id": p.id, "created_at": now, "message": (
                f"审批结果推送待认领：{matter.name}（{record.applicant}），请于{due.isoformat()}前认领{to}")[:500]})
        self.s.execute(insert(ExchangeNotification), notes)
        self.audit.record(actor, "exchange.pushed", "approval_record", record.id,
                          {"matter": matter.code, "applicant": record.applicant, "decision": decision,
                           "regulators": [r.code for r in regs], "due_on": due.isoformat(),
                           "documents": [d.id for d in docs]})
        month = counts.month_of(today)
        counts.bump(self.s, [(("push", month, r.id, m), 1) for r in regs for m in ("total", "unclaimed")])
        return pushes

    def pushes(self, user: User, state: str | None = None, limit: int = 500) -> list[Push]:
        """Pushes the user's side sees: a regulator its own, the bureau's organisation the ones it sent."""
        q = (select(Push).join(ApprovalRecord).options(
            selectinload(Push.record).selectinload(ApprovalRecord.matter), selectinload(Push.regulator),
            selectinload(Push.feedback))
            .order_by(Push.id.desc()).limit(limit))
        q = q.where(self._visible(user))
        if state:
            q = q.where(Push.state == state)
        return list(self.s.scalars(q))

    def _visible(self, user: User):
        dept = user.department
        if dept.kind in {"bureau", "section"}:
            org = permissions.issuing_organisation(dept)
            ids = [org.id, *list(self.s.scalars(select(Department.id).where(Department.parent_id == org.id)))]
            return ApprovalRecord.department_id.in_(ids)
        return Push.regulator_id == user.department_id

    def get_push(self, user: User, push_id: int) -> Push:
        p = self.s.scalar(select(Push).join(ApprovalRecord).where(Push.id == push_id, self._visible(user)))
        if p is None:
            raise NotFound("推送不存在")
        return p

    def claim(self, user: User, push_id: int, note: str = "") -> Push:
        """The regulator's liaison or archivist claims (认领) a push; the attachments become readable."""
        p = self.s.get(Push, push_id)
        if p is None or p.regulator_id != user.department_id:
            raise NotFound("推送不存在")
        if not permissions.has_role(user, "liaison", "archivist"):
            raise Forbidden("只有本部门的联络员或档案员可以认领推送")
        if p.state != "unclaimed":
            raise Conflict(f"该推送已{p.state_label}")
        done = cast(CursorResult, self.s.execute(update(Push).where(Push.id == p.id, Push.state == "unclaimed").values(
            state="claimed", claimed_at=self.clock.now(), claimed_by=user.id, note=(note or "").strip()[:2000],
            claim_late=self.clock.today() > p.due_on)
            .execution_options(synchronize_session=False)))
        if done.rowcount != 1:
            raise Conflict("该推送已被认领")
        self.s.refresh(p)
        self._grant(p)
        self._notify(p.record.department_id, f"{p.regulator.name}已认领审批结果推送：{p.record.matter.name}"
                                             f"（{p.record.applicant}）", push=p)
        self.audit.record(user, "exchange.claimed", "push", p.id, {"note": p.note})
        month = counts.month_of(p.pushed_on)
        counts.bump(self.s, {("push", month, p.regulator_id, "unclaimed"): -1,
                             ("push", month, p.regulator_id, counts.push_state_key("claimed", p.claim_late)): 1})
        return p

    def auto_claim(self, limit: int = 5000) -> int:
        """Claim every push still unclaimed after its due day (the due day is still the regulator's),
        marked 系统自动认领 with the time; both sides are notified. Safe with several workers: the due
        rows are locked (SKIP LOCKED on PostgreSQL) and updated only while still unclaimed. In bulk: one
        UPDATE, one query for the grants, one insert of notifications and one audit batch per pass."""
        today, now = self.clock.today(), self.clock.now()
        ids = list(self.s.scalars(select(Push.id).where(Push.state == "unclaimed", Push.due_on < today)
                                  .order_by(Push.id).limit(limit).with_for_update(skip_locked=True)))
        if not ids:
            return 0
        claimed: list = []  # (push id, regulator, pushed on, due on, record)
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            claimed += list(self.s.execute(
                update(Push).where(Push.id.in_(part), Push.state == "unclaimed")
                .values(state="auto_claimed", claimed_at=now)
                .returning(Push.id, Push.regulator_id, Push.pushed_on, Push.due_on, Push.record_id)
                .execution_options(synchronize_session=False)))
        if not claimed:
            return 0
        claimed.sort()
        # plain rows, no ORM object per push: the records' side, matter names, attachments, department names
        record_ids = sorted({c[4] for c in claimed})
        records: dict = {}
        docs: dict[int, list[int]] = {}
        for chunk in range(0, len(record_ids), 500):
            part = record_ids[chunk:chunk + 500]
            for rid, dept, applicant, matter in self.s.execute(
                    select(ApprovalRecord.id, ApprovalRecord.department_id, ApprovalRecord.applicant, Matter.name)
                    .join(Matter, ApprovalRecord.matter_id == Matter.id).where(ApprovalRecord.id.in_(part))):
                records[rid] = (dept, applicant, matter)
            for rid, doc_id in self.s.execute(select(RecordDocument.record_id, RecordDocument.document_id)
                                              .where(RecordDocument.record_id.in_(part))):
                docs.setdefault(rid, []).append(doc_id)
        names = {i: n for i, n in self.s.execute(select(Department.id, Department.name)
                                                 .where(Department.id.in_({c[1] for c in claimed})))}
        wanted = {(doc_id, c[1]) for c in claimed for doc_id in docs.get(c[4], ())}
        if wanted:
            have = {(d, g) for d, g in self.s.execute(select(DocumentGrant.document_id, DocumentGrant.department_id)
                                                      .where(DocumentGrant.reason == "push",
                                                             DocumentGrant.document_id.in_({d for d, _ in wanted})))}
            for doc_id, dept_id in sorted(wanted - have):
                self.s.add(DocumentGrant(document_id=doc_id, department_id=dept_id, reason="push",
                                         granted_at=now, until=None))
        notes = []
        for push_id, regulator_id, _pushed_on, _due_on, record_id in claimed:
            bureau, applicant, matter = records[record_id]
            msg = f"审批结果推送已由系统自动认领（逾{PUSH_DAYS}个工作日未认领）：{matter}（{applicant}）"
            notes.append({"department_id": regulator_id, "push_id": push_id, "message": msg[:500],
                          "created_at": now})
            notes.append({"department_id": bureau, "push_id": push_id,
                          "message": f"{names[regulator_id]}：{msg}"[:500], "created_at": now})
        # Core insert into the table: no ORM bulk bookkeeping per row
        self.s.execute(insert(cast(Table, ExchangeNotification.__table__)), notes)
        self.s.flush()
        self.audit.record_many(None, [("exchange.auto_claimed", "push", c[0], {"due_on": c[3].isoformat()})
                                      for c in claimed])
        counts.bump(self.s, [(("push", counts.month_of(c[2]), c[1], m), d)
                             for c in claimed for m, d in (("unclaimed", -1), ("auto", 1))])
        return len(claimed)

    def _grant(self, p: Push) -> None:
        for rd in p.record.documents:
            self._grant_document(rd.document_id, p.regulator_id, "push")
        self.s.flush()

    def _grant_document(self, document_id: int, department_id: int, reason: str) -> None:
        exists = self.s.scalar(select(DocumentGrant.id).where(
            DocumentGrant.document_id == document_id, DocumentGrant.department_id == department_id,
            DocumentGrant.reason == reason))
        if exists is None:
            self.s.add(DocumentGrant(document_id=document_id, department_id=department_id, reason=reason,
                                     granted_at=self.clock.now(), until=None))

    def _readable_documents(self, actor: User, document_ids: Sequence[int], what: str) -> list[Document]:
        docs = []
        for doc_id in dict.fromkeys(document_ids):
            doc = self.s.get(Document, doc_id)
            if doc is None or not permissions.can_read(actor, doc):
                raise Unprocessable(f"{what}文档不存在或无权读取：{doc_id}", field="document_ids")
            docs.append(doc)
        return docs

    # -- regulator feedback (第二十六条) -------------------------------------------------------------
    def add_feedback(self, actor: User, push_id: int, *, kind: str, title: str, decided_on: date,
                     summary: str = "", document_ids: Sequence[int] = ()) -> Feedback:
        """The regulator attaches its own decision on the licensee (行政处罚, 信用信息, 检查结果) to a push it
        has claimed (or that was claimed for it); the bureau that pushed sees it and is notified."""
        p = self.s.get(Push, push_id)
        if p is None or p.regulator_id != actor.department_id:
            raise NotFound("推送不存在")
        if not permissions.has_role(actor, "drafter", "reviewer", "signer", "liaison", "archivist"):
            raise Forbidden("只有本部门的经办人员可以反馈监管信息")
        if p.state == "unclaimed":
            raise Conflict("请先认领推送，再反馈监管信息")
        if kind not in FEEDBACK_KINDS:
            raise Unprocessable("反馈类别应为：" + "、".join(f"{k} {v}" for k, v in FEEDBACK_KINDS.items()),
                                field="kind")
        if not (title or "").strip():
            raise Unprocessable("请填写决定名称或文号", field="title")
        if decided_on > self.clock.today():
            raise Unprocessable("决定日期不能晚于今天", field="decided_on")
        docs = self._readable_documents(actor, document_ids, "附件")
        row = Feedback(push_id=p.id, kind=kind, title=title.strip()[:200], decided_on=decided_on,
                       summary=(summary or "").strip(), created_by=actor.id, created_at=self.clock.now(),
                       documents=[FeedbackDocument(document_id=d.id) for d in docs])
        self.s.add(row)
        self.s.flush()
        for d in docs:
            self._grant_document(d.id, p.record.department_id, "feedback")
        self._notify(p.record.department_id, f"{p.regulator.name}反馈{row.kind_label}：{row.title}"
                                             f"（{p.record.matter.name}，{p.record.applicant}）", push=p)
        self.audit.record(actor, "exchange.feedback", "push", p.id,
                          {"feedback": row.id, "kind": kind, "title": row.title, "documents": [d.id for d in docs]})
        return row

    # -- information requests (及时提供相关审批信息) -----------------------------------------------------
    def ask_info(self, actor: User, push_id: int, question: str) -> InfoRequest:
        """The regulator asks for more approval information on a record pushed to it."""
        p = self.s.get(Push, push_id)
        if p is None or p.regulator_id != actor.department_id:
            raise NotFound("推送不存在")
        if not permissions.has_role(actor, "drafter", "reviewer", "signer", "liaison", "archivist"):
            raise Forbidden("只有本部门的经办人员可以请求审批信息")
        if not (question or "").strip():
            raise Unprocessable("请说明需要提供的审批信息", field="question")
        due = load_calendar(self.s).add_workdays(self.clock.today(), INFO_DAYS)
        row = InfoRequest(push_id=p.id, question=question.strip(), asked_by=actor.id, asked_at=self.clock.now(),
                          due_on=due, answer="")
        self.s.add(row)
        self.s.flush()
        self._notify(p.record.department_id, f"{p.regulator.name}请求提供审批信息：{p.record.matter.name}"
                                             f"（{p.record.applicant}），请于{due.isoformat()}前答复", push=p)
        self.audit.record(actor, "exchange.info_requested", "push", p.id, {"info_request": row.id})
        counts.bump(self.s, {("info", counts.month_of(due), p.regulator_id, "total"): 1})
        return row

    def answer_info(self, actor: User, info_id: int, answer: str, document_ids: Sequence[int] = ()) -> InfoRequest:
        """The bureau that pushed answers; the attachments become readable to the asking regulator."""
        row = self.s.get(InfoRequest, info_id)
        if row is None or not self._bureau_of(actor, row.push):
            raise NotFound("信息请求不存在")
        if not permissions.has_role(actor, "drafter", "reviewer", "signer", "liaison"):
            raise Forbidden("答复需要拟稿人、核稿人、签发人或联络员角色")
        if row.answered_at is not None:
            raise Conflict("该请求已答复")
        if not (answer or "").strip():
            raise Unprocessable("答复内容不能为空", field="answer")
        docs = self._readable_documents(actor, document_ids, "附件")
        row.answer, row.answered_by, row.answered_at = answer.strip(), actor.id, self.clock.now()
        row.documents = [InfoDocument(document_id=d.id) for d in docs]
        for d in docs:
            self._grant_document(d.id, row.push.regulator_id, "info")
        self.s.flush()
        p = row.push
        self._notify(p.regulator_id, f"{p.record.department.name}已答复审批信息请求：{p.record.matter.name}"
                                     f"（{p.record.applicant}）", push=p)
        self.audit.record(actor, "exchange.info_answered", "push", p.id,
                          {"info_request": row.id, "documents": [d.id for d in docs]})
        counts.bump(self.s, {("info", counts.month_of(row.due_on), p.regulator_id, "answered"): 1})
        return row

    def _bureau_of(self, user: User, p: Push) -> bool:
        return user.department.kind in {"bureau", "section"} and permissions.same_organisation(
            user.department, p.record.department)

    def info_to_answer(self, user: User, limit: int = 50) -> list[InfoRequest]:
        if user.department.kind not in {"bureau", "section"}:
            return []
        return list(self.s.scalars(select(InfoRequest).join(Push).join(ApprovalRecord).where(
            InfoRequest.answered_at.is_(None), self._visible(user)).order_by(InfoRequest.due_on).limit(limit)))

    # -- notifications --------------------------------------------------------------------------
    def _notify(self, department_id: int, message: str, push: Push | None = None,
                revocation: Revocation | None = None, notice=None) -> None:
        self.s.add(ExchangeNotification(department_id=department_id, push_id=push.id if push else None,
                                        revocation_id=revocation.id if revocation else None,
                                        notice_id=notice.id if notice is not None else None,
                                        message=message[:500], created_at=self.clock.now()))

    def notifications(self, user: User, unread_only: bool = True, limit: int = 20) -> list[ExchangeNotification]:
        q = select(ExchangeNotification).where(ExchangeNotification.department_id == user.department_id)
        if unread_only:
            q = q.where(ExchangeNotification.read_at.is_(None))
        return list(self.s.scalars(q.order_by(ExchangeNotification.id.desc()).limit(limit)))

    def unread_count(self, user: User) -> int:
        return self.s.scalar(select(func.count()).select_from(ExchangeNotification).where(
            ExchangeNotification.department_id == user.department_id,
            ExchangeNotification.read_at.is_(None))) or 0

    def mark_all_read(self, user: User) -> int:
        done = cast(CursorResult, self.s.execute(update(ExchangeNotification).where(
            ExchangeNotification.department_id == user.department_id, ExchangeNotification.read_at.is_(None))
            .values(read_at=self.clock.now()).execution_options(synchronize_session=False)))
        return done.rowcount

    def mailbox(self, department_id: int) -> Mailbox | None:
        return self.s.get(Mailbox, department_id)

    def set_mailbox(self, actor: User, address: str, department: Department | None = None) -> Mailbox | None:
        """The department's address for the daily digest (empty: none); its signer or liaison, or the
        administrator for any department."""
        from archive_service.directory import can_maintain_liaisons

        dept = department or actor.department
        if not can_maintain_liaisons(actor, dept):
            raise Forbidden("只有系统管理员或本部门的签发人、联络员可以设置部门邮箱")
        address = (address or "").strip()
        box = self.s.get(Mailbox, dept.id)
        if not address:
            if box is not None:
                self.s.delete(box)
            self.audit.record(actor, "exchange.mailbox_removed", "department", dept.id)
            return None
        if not EMAIL.match(address):
            raise Unprocessable("邮箱地址格式不正确", field="address")
        if box is None:
            box = Mailbox(department_id=dept.id, address=address)
            self.s.add(box)
        box.address = address
        self.s.flush()
        self.audit.record(actor, "exchange.mailbox_set", "department", dept.id, {"address": address})
        return box

    def mark_read(self, user: User, notification_id: int) -> None:
        n = self.s.get(ExchangeNotification, notification_id)
        if n is None or n.department_id != user.department_id:
            raise NotFound("通知不存在")
        n.read_at = n.read_at or self.clock.now()

    # -- revocation requests (第二十八条) ------------------------------------------------------------
    def request_revocation(self, actor: User, *, matter_id: int, licensee: str, discovered_on: date, action: str,
                           facts: str, document_ids: Sequence[int] = ()) -> Revocation:
        """A regulator pushes a change/revocation request; due = discovery + 2 working days, later is late."""
        if actor.department.kind != "regulator" or not permissions.has_role(
                actor, "drafter", "reviewer", "signer", "liaison", "archivist"):
            raise Forbidden("只有监管部门的人员可以推送审批变更撤销建议")
        matter = self.s.get(Matter, matter_id)
        if matter is None:
            raise Unprocessable("审批事项不存在", field="matter_id")
        if action not in REVOCATION_ACTIONS:
            raise Unprocessable("建议事项应为：" + "、".join(f"{k} {v}" for k, v in REVOCATION_ACTIONS.items()),
                                field="action")
        today = self.clock.today()
        if discovered_on > today:
            raise Unprocessable("发现日期不能晚于今天", field="discovered_on")
        if not (licensee or "").strip() or not (facts or "").strip():
            raise Unprocessable("被许可人和违法事实不能为空",
                                field="licensee" if not (licensee or "").strip() else "facts")
        docs = self._readable_documents(actor, document_ids, "证据")
        cal = load_calendar(self.s)
        due = cal.add_workdays(discovered_on, REVOCATION_DAYS)
        late_days = cal.workdays_between(due, today) if today > due else 0
        section = self.s.get_one(Department, matter.section_id)
        routed = filed_liaisons(self.s, section.id, [actor.department_id])
        if not routed and section.parent_id is not None:
            routed = filed_liaisons(self.s, section.parent_id, [actor.department_id])
        row = Revocation(regulator_id=actor.department_id, matter_id=matter.id, section_id=matter.section_id,
                         liaison_id=routed[0].id if routed else None,
                         licensee=licensee.strip()[:200], discovered_on=discovered_on, action=action,
                         facts=facts.strip(), pushed_at=self.clock.now(), pushed_on=today, due_on=due,
                         late=late_days > 0, late_days=late_days, created_by=actor.id,
                         documents=[RevocationDocument(document_id=d.id) for d in docs])
        self.s.add(row)
        self.s.flush()
        now = self.clock.now()
        for d in docs:
            self.s.add(DocumentGrant(document_id=d.id, department_id=matter.section_id, reason="revocation",
                                     granted_at=now, until=None))
        late_note = f"（逾期推送{late_days}个工作日）" if late_days else ""
        to = f"，联络员：{routed[0].full_name}" if routed else ""
        self._notify(matter.section_id, f"{actor.department.name}建议{row.action_label}：{matter.name}"
                                        f"（{row.licensee}）{late_note}{to}", revocation=row)
        self.audit.record(actor, "exchange.revocation_pushed", "revocation", row.id,
                          {"matter": matter.code, "action": action, "discovered_on": discovered_on.isoformat(),
                           "due_on": due.isoformat(), "late_days": late_days})
        month = counts.month_of(today)
        counts.bump(self.s, [(("revocation", month, row.regulator_id, m), 1)
                             for m in ("total", "open", *(("late",) if row.late else ()))])
        return row

    def revocations_to_handle(self, user: User, limit: int = 50) -> list[Revocation]:
        """Open requests for the user's section: the routed liaison's first, then the section's others."""
        q = select(Revocation).where(Revocation.state.in_(["pushed", "verifying", "handling"]))
        if "liaison" in user.roles and not permissions.has_role(user, "drafter", "reviewer", "signer"):
            q = q.where(Revocation.liaison_id == user.id)
        elif user.department.kind == "bureau":
            q = q.where(or_(Revocation.section_id == user.department_id,
                            Revocation.section_id.in_(select(Department.id).where(
                                Department.parent_id == user.department_id))))
        else:
            q = q.where(Revocation.section_id == user.department_id)
        rows = list(self.s.scalars(q.order_by(Revocation.due_on, Revocation.id).limit(limit)))
        return sorted(rows, key=lambda r: r.liaison_id != user.id)

    def revocations(self, user: User, limit: int = 500) -> list[Revocation]:
        q = select(Revocation).order_by(Revocation.id.desc()).limit(limit)
        dept = user.department
        if dept.kind in {"bureau", "section"}:
            org = permissions.issuing_organisation(dept)
            ids = [org.id, *list(self.s.scalars(select(Department.id).where(Department.parent_id == org.id)))]
            q = q.where(Revocation.section_id.in_(ids))
        else:
            q = q.where(Revocation.regulator_id == user.department_id)
        return list(self.s.scalars(q))


def _as_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _read_table(filename: str, data: bytes) -> Iterable[Sequence]:
    if (filename or "").lower().endswith(".xlsx") or data[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise Unprocessable("无法读取 XLSX 文件") from None
        yield from wb.active.iter_rows(values_only=True)
        return
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unprocessable("CSV 文件编码应为 UTF-8 或 GB18030")
    yield from csv.reader(io.StringIO(text))
