"""收文 (incoming letters), 条例 第二十四条: 签收 → 登记 → 初审 (or 退回 with the reason) → 拟办 →
批办 (a leader names the handler and the due date in working days) → 传阅 (read receipts) → 催办
(reminders before and after the due date, in working days) → 答复 (a 复函) or 办结.

An issued letter appears in the inbox of each 主送 (and 分送, for minutes) department; 抄送
departments see it as a copy and may only sign for it. The recipient organisation's 办公室 (its
clerks, 文书) signs for, registers, checks and proposes; a leader (签发人) decides; the handler answers.
Every step is kept (``InboxStep``) for the 收文处理单. The reply is an ordinary letter of the
recipient with ``reply_to_id`` set; issuing it marks the item 已答复 (issuing.py).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from archive_service.audit import AuditLog
from archive_service.clock import Clock
from archive_service.documents import DocumentService
from archive_service.errors import Forbidden, InvalidTransition, NotFound, Unprocessable
from archive_service.listing import Cursor, KeysetPage, keyset_rows
from archive_service.models import User
from archive_service.permissions import office_organisation_id, same_organisation
from archive_service.workdays import load_calendar

from .letters import LetterService
from .models import INBOX_ACTIONS, INBOX_STATES, InboxReading, InboxStep, Letter, LetterRecipient
from .numbering import Numbering

ORDER = ["pending", "received", "registered", "reviewed", "proposed", "assigned", "replied", "closed"]
DONE = {"replied", "closed", "returned"}
#: remind this many working days before the due date (催办 before and after it)
REMIND_BEFORE = 2
OFFICE_RULE = "（条例第二十四条：收文由办公室的文书签收、登记、初审和拟办）"

# action -> (states it may be taken from, who may take it: clerk | leader | handler)
_RULES: dict[str, tuple[set[str], str]] = {
    "receive": ({"pending"}, "clerk"),
    "register": ({"received"}, "clerk"),
    "review": ({"registered"}, "clerk"),
    "return": ({"registered", "reviewed"}, "clerk"),
    "propose": ({"reviewed", "proposed"}, "clerk"),
    "assign": ({"proposed", "assigned"}, "leader"),
    "circulate": ({"registered", "reviewed", "proposed", "assigned", "replied", "closed"}, "clerk"),
    "remind": ({"assigned"}, "clerk"),
    "reply": ({"reviewed", "proposed", "assigned"}, "handler"),
    "close": ({"assigned"}, "handler"),
}


def is_overdue(item: LetterRecipient, today: date) -> bool:
    return item.due_on is not None and item.state not in DONE and today > item.due_on


class InboxService:
    def __init__(self, session: Session, documents: DocumentService, clock: Clock, handling_days: int = 10):
        self.s = session
        self.clock = clock
        self.handling_days = handling_days
        self.letters = LetterService(session, documents, clock)
        self.audit = AuditLog(session, clock)

    @staticmethod
    def desks(user: User) -> set[int]:
        """Departments whose incoming letters the user handles: their own and, for a clerk (文书),
        the organisation their 办公室 receives for."""
        office = office_organisation_id(user)
        return {user.department_id} | ({office} if office is not None else set())

    def items(self, user: User, include_done: bool = True, limit: int = 500) -> list[LetterRecipient]:
        """The newest ``limit`` items (open ones only unless ``include_done``), letters loaded in the same query."""
        q = (select(LetterRecipient).join(Letter, LetterRecipient.letter_id == Letter.id)
             .where(LetterRecipient.department_id.in_(self.desks(user)), Letter.issued_at.is_not(None))
             .options(contains_eager(LetterRecipient.letter).joinedload(Letter.issuer),
                      joinedload(LetterRecipient.handler)))
        if not include_done:
            q = q.where(LetterRecipient.state.not_in(DONE))
        return list(self.s.scalars(q.order_by(Letter.issued_at.desc(), LetterRecipient.id.desc()).limit(limit)))

    def page(self, user: User, size: int = 50, after: Cursor | None = None, before: Cursor | None = None,
             start: datetime | None = None) -> KeysetPage:
        """The department's incoming letters newest issue first, by keyset (``after``/``before``/``from``)."""
        q = (select(LetterRecipient).join(Letter, LetterRecipient.letter_id == Letter.id)
             .where(LetterRecipient.department_id.in_(self.desks(user)), Letter.issued_at.is_not(None))
             .options(selectinload(LetterRecipient.letter).joinedload(Letter.issuer),
                      joinedload(LetterRecipient.handler)))
        return keyset_rows(self.s, q, Letter.issued_at, LetterRecipient.id, size, after, before, start)

    def unread_count(self, user: User) -> int:
        """收文 waiting for the user: items of their desks not yet signed for (签收), plus letters circulated
        to them (传阅) they have not read — the number beside 收文 in the top navigation."""
        pending = self.s.scalar(
            select(func.count()).select_from(LetterRecipient).join(Letter, LetterRecipient.letter_id == Letter.id)
            .where(LetterRecipient.department_id.in_(self.desks(user)), LetterRecipient.state == "pending",
                   Letter.issued_at.is_not(None))) or 0
        unread = self.s.scalar(select(func.count()).select_from(InboxReading).where(
            InboxReading.user_id == user.id, InboxReading.read_at.is_(None))) or 0
        return int(pending) + int(unread)

    def item(self, user: User, item_id: int) -> LetterRecipient:
        row = self.s.get(LetterRecipient, item_id)
        if row is None or row.letter.issued_at is None or not self.may_see(user, row):
            raise NotFound("收文不存在或无权查看")
        return row

    def may_see(self, user: User, item: LetterRecipient) -> bool:
        """The recipient's people and its 办公室, and whoever the letter was circulated to (传阅)."""
        return item.department_id in self.desks(user) or any(r.user_id == user.id for r in item.readings)

    def item_for_letter(self, user: User, letter: Letter) -> LetterRecipient | None:
        if letter.issued_at is None:
            return None
        desks = self.desks(user)
        for r in letter.recipients:
            if r.department_id in desks or any(x.user_id == user.id for x in r.readings):
                return r
        return None

    def reminder(self, item: LetterRecipient) -> tuple[str, int] | None:
        """催办: ("due_soon", working days left) within REMIND_BEFORE working days of the due date,
        ("overdue", working days late) after it, else None."""
        if item.due_on is None or item.state in DONE:
            return None
        today = self.clock.today()
        cal = load_calendar(self.s)
        if today > item.due_on:
            return "overdue", cal.workdays_between(item.due_on, today)
        left = cal.workdays_between(today, item.due_on)
        return ("due_soon", left) if left <= REMIND_BEFORE else None

    def reminders(self, user: User) -> list[tuple[LetterRecipient, str, int]]:
        """The open items of the user's desks that are due soon or overdue (the 办公室's 催办 list)."""
        out = []
        for item in self.items(user, include_done=False):
            r = self.reminder(item)
            if r is not None:
                out.append((item, *r))
        return out

    def overdue(self, item: LetterRecipient) -> bool:
        return is_overdue(item, self.clock.today())

    # -- transitions -----------------------------------------------------------------------------
    def _step(self, item: LetterRecipient, user: User, frm: set[str], action: str) -> None:
        if item.department_id not in self.desks(user):
            raise NotFound("收文不存在或无权查看")
        if item.role == "cc" and action not in {"receive", "circulate"}:
            raise InvalidTransition("抄送件只需签收，不需登记、承办或答复")
        if item.state not in frm:
            raise InvalidTransition(f"当前状态为“{INBOX_STATES[item.state]}”，不能{INBOX_ACTIONS[action]}")
        who = _RULES[action][1]
        is_clerk = office_organisation_id(user) is not None and item.department_id in self.desks(user) \
            and "clerk" in user.roles
        if who == "clerk" and not is_clerk:
            raise Forbidden(f"{INBOX_ACTIONS[action]}由收文机关办公室的文书办理{OFFICE_RULE}")
        if who == "leader" and "signer" not in user.roles:
            raise Forbidden("批办须由收文机关负责人（签发人）办理：在拟办意见基础上确定承办人和办理期限")
        if who == "handler" and not (user.id == item.handler_id or is_clerk or "signer" in user.roles):
            raise Forbidden(f"{INBOX_ACTIONS[action]}由承办人、办公室文书或负责人办理")

    def _log(self, item: LetterRecipient, user: User, action: str, opinion: str = "") -> InboxStep:
        step = InboxStep(action=action, actor_id=user.id, actor_name=user.full_name, opinion=opinion,
                         at=self.clock.now())
        item.steps.append(step)
        return step

    def receive(self, user: User, item: LetterRecipient) -> LetterRecipient:
        self._step(item, user, {"pending"}, "receive")
        item.state, item.received_at, item.received_by = "received", self.clock.now(), user.id
        self._log(item, user, "receive")
        self._record(user, item, "inbox.received", {})
        return item

    def register(self, user: User, item: LetterRecipient) -> LetterRecipient:
        self._step(item, user, {"received"}, "register")
        year = self.clock.today().year
        numbering = Numbering(self.s, self.clock)  # 收文编号 with the department's 收文代字, e.g. 石市监收〔2026〕1号
        number, _ = numbering.next_number(numbering.prefix_for(item.department, "incoming"), year)
        item.state, item.registered_at, item.registered_by = "registered", self.clock.now(), user.id
        item.incoming_number = number
        self._log(item, user, "register", f"收文编号：{number}")
        self._record(user, item, "inbox.registered", {"incoming_number": number})
        return item

    def review(self, user: User, item: LetterRecipient, opinion: str = "") -> LetterRecipient:
        """初审: the letter belongs here and is complete; it goes on to 拟办."""
        self._step(item, user, _RULES["review"][0], "review")
        item.state = "reviewed"
        self._log(item, user, "review", (opinion or "").strip() or "符合收文要求")
        self._record(user, item, "inbox.reviewed", {})
        return item

    def send_back(self, user: User, item: LetterRecipient, reason: str) -> LetterRecipient:
        """初审退回: a letter sent to the wrong office (or incomplete) goes back with the reason."""
        self._step(item, user, _RULES["return"][0], "return")
        reason = (reason or "").strip()
        if not reason:
            raise Unprocessable("退回来文须说明理由", field="opinion")
        item.state = "returned"
        self._log(item, user, "return", reason)
        self._record(user, item, "inbox.returned", {"reason": reason, "issuer": item.letter.issuer_id})
        return item

    def propose(self, user: User, item: LetterRecipient, opinion: str) -> LetterRecipient:
        """拟办: the 办公室 proposes how to handle it, for the leader's 批办."""
        self._step(item, user, _RULES["propose"][0], "propose")
        opinion = (opinion or "").strip()
        if not opinion:
            raise Unprocessable("请填写拟办意见", field="opinion")
        item.state = "proposed"
        self._log(item, user, "propose", opinion)
        self._record(user, item, "inbox.proposed", {"opinion": opinion})
        return item

    def assign(self, user: User, item: LetterRecipient, handler: User | None, days: int | None = None,
               due_on: date | None = None, opinion: str = "") -> LetterRecipient:
        """批办: a leader names a handler of the organisation and a due date (working days, start day not counted)."""
        self._step(item, user, _RULES["assign"][0], "assign")
        if handler is None or not same_organisation(handler.department, item.department) or not handler.active:
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
        text = (opinion or "").strip()
        self._log(item, user, "assign", f"{text + '；' if text else ''}承办人：{handler.full_name}，"
                                        f"办理期限：{due_on.isoformat()}")
        self._record(user, item, "inbox.assigned", {"handler": handler.username, "due_on": due_on.isoformat()})
        return item

    def circulate(self, user: User, item: LetterRecipient, readers: list[User]) -> list[InboxReading]:
        """传阅: send the letter to people of the organisation to read; each read is receipted."""
        self._step(item, user, _RULES["circulate"][0], "circulate")
        if not readers:
            raise Unprocessable("请选择传阅人员", field="readers")
        already = {r.user_id for r in item.readings}
        added = []
        for reader in readers:
            if not reader.active or not same_organisation(reader.department, item.department):
                raise Unprocessable(f"传阅人员须为本单位在岗人员：{reader.full_name}", field="readers")
            if reader.id in already:
                continue
            row = InboxReading(user_id=reader.id, sent_by=user.id, sent_at=self.clock.now())
            item.readings.append(row)
            already.add(reader.id)
            added.append(row)
        self._log(item, user, "circulate", "传阅：" + "、".join(r.full_name for r in readers))
        self._record(user, item, "inbox.circulated", {"readers": [r.username for r in readers]})
        return added

    def mark_read(self, user: User, item: LetterRecipient) -> InboxReading:
        """阅知: the read receipt of a person the letter was circulated to."""
        row = next((r for r in item.readings if r.user_id == user.id), None)
        if row is None:
            raise Forbidden("该收文未传阅给您")
        if row.read_at is None:
            row.read_at = self.clock.now()
            self._log(item, user, "read")
            self._record(user, item, "inbox.read", {})
        return row

    def remind(self, user: User, item: LetterRecipient, note: str = "") -> InboxStep:
        """催办: the 办公室 reminds the handler (working days to the due date, or late)."""
        self._step(item, user, _RULES["remind"][0], "remind")
        status, when = self.reminder(item), ""
        if status is not None and status[0] == "overdue":
            when = f"已逾期 {status[1]} 个工作日"
        elif item.due_on is not None:
            when = f"距办理期限还有 {load_calendar(self.s).workdays_between(self.clock.today(), item.due_on)} 个工作日"
        text = "；".join(x for x in ((note or "").strip(), when) if x)
        step = self._log(item, user, "remind", text)
        self._record(user, item, "inbox.reminded", {"handler": item.handler_id, "note": text})
        return step

    def close(self, user: User, item: LetterRecipient, opinion: str) -> LetterRecipient:
        """办结 without a reply letter (the matter is done), with what was done."""
        self._step(item, user, _RULES["close"][0], "close")
        opinion = (opinion or "").strip()
        if not opinion:
            raise Unprocessable("请填写办结情况", field="opinion")
        item.state = "closed"
        self._log(item, user, "close", opinion)
        self._record(user, item, "inbox.closed", {"opinion": opinion})
        return item

    def reply(self, user: User, item: LetterRecipient, title: str | None = None,
              body: list[str] | None = None, note: str = "") -> Letter:
        """答复: draft a 复函 to the original's issuer, linked to it; it then goes through the chain."""
        self._step(item, user, _RULES["reply"][0], "reply")
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
        self._log(item, user, "reply", f"起草复函：{reply.title}")
        self._record(user, item, "inbox.reply_drafted", {"reply_letter": reply.id})
        return reply

    def _record(self, user: User, item: LetterRecipient, action: str, details: dict) -> None:
        details = {"letter": item.letter_id, "number": item.letter.number, "state": item.state, **details}
        self.audit.record(user, action, "letter", item.letter_id, details)
        self.s.flush()
