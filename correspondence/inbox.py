"""收文 (incoming letters): 签收 → 登记 → 承办 (handler, due date in working days) → 答复 (a 复函).

An issued letter appears in the inbox of each 主送 (and 分送, for minutes) department; 抄送
departments see it as a copy and may only sign for it. The reply is an ordinary letter of the
recipient with ``reply_to_id`` set; issuing it marks the item 已答复 (issuing.py).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from archive_service.audit import AuditLog
from archive_service.clock import Clock
from archive_service.documents import DocumentService
from archive_service.errors import Forbidden, InvalidTransition, NotFound, Unprocessable
from archive_service.listing import Cursor, KeysetPage, keyset_rows
from archive_service.models import User
from archive_service.workdays import load_calendar

from .letters import LetterService
from .models import INBOX_STATES, Letter, LetterRecipient
from .numbering import Numbering

ORDER = ["pending", "received", "registered", "assigned", "replied"]


def is_overdue(item: LetterRecipient, today: date) -> bool:
    return item.due_on is not None and item.state != "replied" and today > item.due_on


class InboxService:
    def __init__(self, session: Session, documents: DocumentService, clock: Clock, handling_days: int = 10):
        self.s = session
        self.clock = clock
        self.handling_days = handling_days
        self.letters = LetterService(session, documents, clock)
        self.audit = AuditLog(session, clock)

    def items(self, user: User, include_done: bool = True, limit: int = 500) -> list[LetterRecipient]:
        """The newest ``limit`` items (open ones only unless ``include_done``), letters loaded in the same query."""
        q = (select(LetterRecipient).join(Letter, LetterRecipient.letter_id == Letter.id)
             .where(LetterRecipient.department_id == user.department_id, Letter.issued_at.is_not(None))
             .options(contains_eager(LetterRecipient.letter).joinedload(Letter.issuer),
                      joinedload(LetterRecipient.handler)))
        if not include_done:
            q = q.where(LetterRecipient.state != "replied")
        return list(self.s.scalars(q.order_by(Letter.issued_at.desc(), LetterRecipient.id.desc()).limit(limit)))

    def page(self, user: User, size: int = 50, after: Cursor | None = None, before: Cursor | None = None,
             start: datetime | None = None) -> KeysetPage:
        """The department's incoming letters newest issue first, by keyset (``after``/``before``/``from``)."""
        q = (select(LetterRecipient).join(Letter, LetterRecipient.letter_id == Letter.id)
             .where(LetterRecipient.department_id == user.department_id, Letter.issued_at.is_not(None))
             .options(selectinload(LetterRecipient.letter).joinedload(Letter.issuer),
                      joinedload(LetterRecipient.handler)))
        return keyset_rows(self.s, q, Letter.issued_at, LetterRecipient.id, size, after, before, start)

    def item(self, user: User, item_id: int) -> LetterRecipient:
        row = self.s.get(LetterRecipient, item_id)
        if row is None or row.department_id != user.department_id or row.letter.issued_at is None:
            raise NotFound("收文不存在或无权查看")
        return row

    def item_for_letter(self, user: User, letter: Letter) -> LetterRecipient | None:
        for r in letter.recipients:
            if r.department_id == user.department_id and letter.issued_at is not None:
                return r
        return None

    def overdue(self, item: LetterRecipient) -> bool:
        return is_overdue(item, self.clock.today())

    # -- transitions -----------------------------------------------------------------------------
    def _step(self, item: LetterRecipient, user: User, frm: set[str], action: str) -> None:
        if item.department_id != user.department_id:
            raise NotFound("收文不存在或无权查看")
        if item.role == "cc" and action != "receive":
            raise InvalidTransition("抄送件只需签收，不需登记、承办或答复")
        if item.state not in frm:
            names = {"receive": "签收", "register": "登记", "assign": "交办", "reply": "答复"}
            raise InvalidTransition(f"当前状态为“{INBOX_STATES[item.state]}”，不能{names[action]}")

    def receive(self, user: User, item: LetterRecipient) -> LetterRecipient:
        self._step(item, user, {"pending"}, "receive")
        item.state, item.received_at, item.received_by = "received", self.clock.now(), user.id
        self._record(user, item, "inbox.received", {})
        return item

    def register(self, user: User, item: LetterRecipient) -> LetterRecipient:
        self._step(item, user, {"received"}, "register")
        year = self.clock.today().year
        numbering = Numbering(self.s, self.clock)  # 收文编号 with the department's 收文代字, e.g. 石市监收〔2026〕1号
        number, _ = numbering.next_number(numbering.prefix_for(item.department, "incoming"), year)
        item.state, item.registered_at, item.registered_by = "registered", self.clock.now(), user.id
        item.incoming_number = number
        self._record(user, item, "inbox.registered", {"incoming_number": number})
        return item

    def assign(self, user: User, item: LetterRecipient, handler: User, days: int | None = None,
               due_on: date | None = None) -> LetterRecipient:
        """承办: name a handler of the department and a due date (working days, start day not counted)."""
        self._step(item, user, {"registered", "assigned"}, "assign")
        if not (user.roles & {"reviewer", "signer", "archivist", "drafter"}):
            raise Forbidden("交办需要公文处理相关角色")
        if handler is None or handler.department_id != item.department_id or not handler.active:
            raise Unprocessable("承办人须为本单位在岗人员", field="handler")
        today = self.clock.today()
        if due_on is None:
            days = self.handling_days if days is None else int(days)
            if not 1 <= days <= 120:
                raise Unprocessable("办理时限须为 1–120 个工作日", field="days")
            due_on = load_calendar(self.s).add_workdays(today, days)
        elif due_on <= today:
            raise Unprocessable("办理期限须晚于今天", field="due_on")
        item.state, item.handler_id, item.due_on, item.assigned_at = "assigned", handler.id, due_on, self.clock.now()
        self._record(user, item, "inbox.assigned", {"handler": handler.username, "due_on": due_on.isoformat()})
        return item

    def reply(self, user: User, item: LetterRecipient, title: str | None = None,
              body: list[str] | None = None, note: str = "") -> Letter:
        """答复: draft a 复函 to the original's issuer, linked to it; it then goes through the chain."""
        self._step(item, user, {"registered", "assigned"}, "reply")
        if item.reply_letter_id:
            raise InvalidTransition("已起草复函，请在复函中继续办理")
        original = item.letter
        ref_title, ref_number = original.title, original.number or ""
        subject = ref_title.removeprefix("关于").removesuffix("的函")
        title = title or f"关于{subject}的复函"
        body = body or [f"贵单位《{ref_title}》（{ref_number}）收悉。经研究，现函复如下：",
                        "一、（答复意见）", "此复。"]
        reply = self.letters.create_draft(user, kind="letter", template="reply", title=title,
                                          to=[original.issuer.id], body=body, note=note,
                                          reply_to_id=original.id)
        item.reply_letter_id = reply.id
        self._record(user, item, "inbox.reply_drafted", {"reply_letter": reply.id})
        return reply

    def _record(self, user: User, item: LetterRecipient, action: str, details: dict) -> None:
        details = {"letter": item.letter_id, "number": item.letter.number, "state": item.state, **details}
        self.audit.record(user, action, "letter", item.letter_id, details)
        self.s.flush()
