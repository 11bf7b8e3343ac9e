"""收文处理单: the incoming letter's processing sheet (条例 第二十四条) — its fields (来文机关, 来文字号, 收文编号,
密级, 紧急程度, 份数, 公开属性, 附件, 办理期限, 承办人) and every step with person, time and opinion, read
receipts of 传阅 included — as a PDF/A signed with the receiving organisation's key.

It is produced when asked for (the handling goes on until 办结), so each copy shows the steps so far and
the signature's time says when it was certified; the certifying person is the signature's /Name."""
from __future__ import annotations

from sqlalchemy.orm import Session

from archive_service.audit import AuditLog
from archive_service.clock import Clock, local_time
from archive_service.errors import Forbidden
from archive_service.models import User
from archive_service.permissions import issuing_organisation

from .inbox import InboxService
from .models import LetterRecipient
from .processing_sheet import render_processing_sheet
from .signing import sign_pdf


def inbox_sheet_fields(item: LetterRecipient) -> list[tuple[str, str]]:
    letter, data = item.letter, item.letter.data
    names = [a["name"] for a in data.get("attachments", [])]
    return [("来文机关", letter.issuer.official_name), ("来文字号", letter.number or "（无）"),
            ("收文单位", f"{item.department.official_name}（{item.role_label}）"),
            ("收文编号", item.incoming_number or "（未登记）"),
            ("收文日期", local_time(item.received_at)[:16] if item.received_at else "（未签收）"),
            ("密级", data.get("classification") or "非密"), ("紧急程度", letter.urgency or "无"),
            ("份数", "1份（电子公文）"), ("公开属性", data.get("disclosure") or "未标注"),
            ("附件", "、".join(names) or "无"),
            ("办理期限", item.due_on.isoformat() if item.due_on else "无"),
            ("承办人", item.handler.full_name if item.handler else "（未交办）"), ("办理状态", item.state_label)]


def inbox_sheet_steps(item: LetterRecipient) -> list[dict]:
    """Every step in time order; each 传阅 reader's receipt (阅知, or 未阅) as its own row."""
    rows = [(s.at, {"action": s.action_label, "actor": s.actor_name, "at": local_time(s.at)[:16],
                    "opinion": s.opinion or ""}) for s in item.steps if s.action != "read"]
    for r in item.readings:
        at = r.read_at or r.sent_at
        rows.append((at, {"action": "阅知" if r.read_at else "传阅（未阅）", "actor": r.user.full_name,
                          "at": local_time(r.read_at)[:16] if r.read_at else "", "opinion": ""}))
    return [row for _at, row in sorted(rows, key=lambda pair: pair[0])]


class InboxSheets:
    def __init__(self, session: Session, clock: Clock, inbox: InboxService, keys=None):
        self.s = session
        self.clock = clock
        self.inbox = inbox
        self.keys = keys  # correspondence.pki key source; None: unsigned (no key material configured)

    def pdf(self, user: User, item_id: int) -> bytes:
        """The sheet of one incoming item, for the people of the receiving desk (a 传阅 reader sees the letter,
        not its handling record): signed by the receiving organisation, /Name the person who certified it."""
        item = self.inbox.item(user, item_id)
        if item.department_id not in self.inbox.desks(user):
            raise Forbidden("收文处理单由收文单位的人员出具；传阅人员只能阅知来文")
        sheet = render_processing_sheet(item.letter.title, item.letter.number or "", inbox_sheet_steps(item),
                                        created=self.clock.now(), heading="收文处理单",
                                        fields=inbox_sheet_fields(item))
        AuditLog(self.s, self.clock).record(user, "inbox.sheet_certified", "letter", item.letter_id, {
            "item": item.id, "number": item.letter.number, "state": item.state})
        if self.keys is None:
            return sheet
        org = issuing_organisation(item.department)
        roles = [("出具", user.full_name)] + ([("承办", item.handler.full_name)] if item.handler else [])
        return sign_pdf(sheet, org, signer_name=user.full_name, reason="收文处理单", keys=self.keys, roles=roles)
