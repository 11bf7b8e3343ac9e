"""Policy-change notices (第二十七条) and notices of higher-level meetings and training: a regulator sends
one to the approving sections of the affected matters with a 政策变动告知函 drafted from the template
(the letter then goes through the ordinary letter workflow); each section acknowledges (签收) it.

``draft_from_template`` also drafts the 审批变更撤销建议函 and 处理结果告知函 of revocation requests."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from archive_service import permissions
from archive_service.clock import Clock
from archive_service.errors import Conflict, Forbidden, NotFound, Unprocessable
from archive_service.models import Department, User
from correspondence.doc_templates import fill, load_letter_template
from correspondence.letters import LetterService
from correspondence.models import Letter

from .models import NOTICE_KINDS, OUTCOMES, Matter, Notice, NoticeDocument, NoticeMatter, NoticeRecipient, Revocation
from .revocations import revocation_letter_values
from .service import ExchangeService

INSTRUCTION = re.compile(r"（请[^）]*）")


def draft_from_template(letters: LetterService, actor: User, template_id: str, values: dict[str, str],
                        to: Sequence[Department], details: Sequence[str] = ()) -> Letter:
    """A letter draft (拟稿) from a letter template: placeholders filled from ``values``; the template's
    instruction paragraphs (（请…）) are replaced, in order, by ``details`` or left for the drafter."""
    filled = fill(load_letter_template(template_id), **values)
    body, rest = [], list(details)
    for para in filled["body"]:
        if rest and INSTRUCTION.search(para):
            para = INSTRUCTION.sub(lambda _m: rest.pop(0), para, count=1)
        body.append(para)
    return letters.create_draft(actor, "letter", template=template_id, title=filled["title"], body=body,
                                to=[d.id for d in to], note=filled["note"])


class NoticeService:
    def __init__(self, session: Session, clock: Clock, letters: LetterService):
        self.s = session
        self.clock = clock
        self.letters = letters
        self.exchange = ExchangeService(session, clock)

    def send(self, actor: User, *, kind: str, title: str, effective_on: date, summary: str,
             matter_ids: Sequence[int] = (), document_ids: Sequence[int] = (), draft_letter: bool = True) -> Notice:
        """Record and send a notice to the sections approving the affected matters (all sections when it
        names none); with ``draft_letter`` (a policy change) its 政策变动告知函 is drafted for the sender."""
        if actor.department.kind != "regulator" or not permissions.has_role(
                actor, "drafter", "reviewer", "signer", "liaison"):
            raise Forbidden("只有监管部门的经办人员可以发送政策变动告知")
        if kind not in NOTICE_KINDS:
            raise Unprocessable("告知类别应为：" + "、".join(f"{k} {v}" for k, v in NOTICE_KINDS.items()),
                                field="kind")
        if not (title or "").strip() or not (summary or "").strip():
            raise Unprocessable("标题和主要内容不能为空", field="title" if not (title or "").strip() else "summary")
        matters = []
        for mid in dict.fromkeys(matter_ids):
            m = self.s.get(Matter, mid)
            if m is None:
                raise Unprocessable(f"审批事项不存在：{mid}", field="matter_ids")
            matters.append(m)
        if matters:
            sections = list({m.section_id: m.section for m in matters}.values())
        else:
            sections = list(self.s.scalars(select(Department).where(Department.kind == "section")
                                           .order_by(Department.id)))
            if not sections:
                sections = list(self.s.scalars(select(Department).where(Department.kind == "bureau")))
        if not sections:
            raise Unprocessable("没有可告知的审批股室", field="matter_ids")
        docs = self.exchange._readable_documents(actor, document_ids, "附件")
        letter = None
        if draft_letter:
            if "drafter" not in actor.roles:
                raise Forbidden("起草告知函需要“拟稿人”角色；可不起草告知函（draft_letter=false）")
            to = list({permissions.issuing_organisation(d).id: permissions.issuing_organisation(d)
                       for d in sections}.values())
            names = "、".join(m.name for m in matters) or "本县各审批事项"
            d = effective_on
            letter = draft_from_template(
                self.letters, actor, "policy_change", {"subject": title.strip()}, to,
                [f"{title.strip()}，自{d.year}年{d.month}月{d.day}日起施行。{summary.strip()}",
                 f"涉及审批事项：{names}。"])
        row = Notice(regulator_id=actor.department_id, kind=kind, title=title.strip()[:200], effective_on=effective_on,
                     summary=summary.strip(), letter_id=letter.id if letter else None, created_by=actor.id,
                     created_at=self.clock.now(), matters=[NoticeMatter(matter_id=m.id) for m in matters],
                     recipients=[NoticeRecipient(section_id=sec.id) for sec in sections],
                     documents=[NoticeDocument(document_id=doc.id) for doc in docs])
        self.s.add(row)
        self.s.flush()
        for sec in sections:
            for doc in docs:
                self.exchange._grant_document(doc.id, sec.id, "notice")
            self.exchange._notify(sec.id, f"{actor.department.name}{row.kind_label}告知待签收：{row.title}",
                                  notice=row)
        self.exchange.audit.record(actor, "exchange.notice_sent", "notice", row.id, {
            "kind": kind, "title": row.title, "matters": [m.code for m in matters],
            "sections": [sec.code for sec in sections], "letter": row.letter_id})
        return row

    def _visible(self, user: User):
        dept = user.department
        if dept.kind in {"bureau", "section"}:
            org = permissions.issuing_organisation(dept)
            ids = [org.id, *self.s.scalars(select(Department.id).where(Department.parent_id == org.id))]
            return exists().where(NoticeRecipient.notice_id == Notice.id, NoticeRecipient.section_id.in_(ids))
        return Notice.regulator_id == user.department_id

    def notices(self, user: User, limit: int = 200) -> list[Notice]:
        return list(self.s.scalars(select(Notice).where(self._visible(user)).options(
            selectinload(Notice.recipients).selectinload(NoticeRecipient.section),
            selectinload(Notice.matters).selectinload(NoticeMatter.matter), selectinload(Notice.regulator))
            .order_by(Notice.id.desc()).limit(limit)))

    def get(self, user: User, notice_id: int) -> Notice:
        row = self.s.scalar(select(Notice).where(Notice.id == notice_id, self._visible(user)))
        if row is None:
            raise NotFound("告知不存在")
        return row

    def to_acknowledge(self, user: User, limit: int = 50) -> list[Notice]:
        """Notices the user's own section has not acknowledged yet."""
        return list(self.s.scalars(select(Notice).join(NoticeRecipient).where(
            NoticeRecipient.section_id == user.department_id, NoticeRecipient.acked_at.is_(None))
            .order_by(Notice.id.desc()).limit(limit)))

    def acknowledge(self, user: User, notice_id: int) -> Notice:
        row = self.get(user, notice_id)
        rec = next((r for r in row.recipients if r.section_id == user.department_id), None)
        if rec is None:
            raise Forbidden("只有收到告知的审批股室可以签收")
        if rec.acked_at is not None:
            raise Conflict("本股室已签收该告知")
        rec.acked_at, rec.acked_by = self.clock.now(), user.id
        self.exchange._notify(row.regulator_id, f"{user.department.name}已签收{row.kind_label}告知：{row.title}",
                              notice=row)
        self.exchange.audit.record(user, "exchange.notice_acknowledged", "notice", row.id,
                                   {"section": user.department.code})
        return row


class RevocationLetters:
    """The letters of a revocation request (第二十八条), drafted into the ordinary letter workflow: the
    regulator's 审批变更撤销建议函 to the bureau, and once the result is signed the bureau's 处理结果告知函."""

    def __init__(self, session: Session, clock: Clock, letters: LetterService):
        self.s = session
        self.letters = letters
        self.exchange = ExchangeService(session, clock)

    def draft(self, actor: User, revocation_id: int) -> Letter:
        row = self.s.get(Revocation, revocation_id)
        if row is None:
            raise NotFound("撤销建议不存在")
        if actor.department_id == row.regulator_id:
            return self._request_letter(actor, row)
        if permissions.same_organisation(actor.department, row.section):
            return self._result_letter(actor, row)
        raise NotFound("撤销建议不存在")

    def _request_letter(self, actor: User, row: Revocation) -> Letter:
        if row.request_letter_id is not None:
            raise Conflict("审批变更撤销建议函已起草")
        letter = draft_from_template(
            self.letters, actor, "change_revocation", revocation_letter_values(row),
            [permissions.issuing_organisation(row.section)],
            [f"审批事项：{row.matter.name}；被许可人：{row.licensee}。", f"经查：{row.facts}"])
        row.request_letter_id = letter.id
        self.exchange.audit.record(actor, "exchange.revocation_letter_drafted", "revocation", row.id,
                                   {"letter": letter.id, "template": "change_revocation"})
        return letter

    def _result_letter(self, actor: User, row: Revocation) -> Letter:
        if row.state not in {"done", "not_done"}:
            raise Conflict("处理结果签发后才能起草处理结果告知函")
        if row.result_letter_id is not None:
            raise Conflict("处理结果告知函已起草")
        values = revocation_letter_values(row)
        reference = fill(load_letter_template("change_revocation"), **values)["title"]
        if row.request_letter_id is not None:
            request_letter = self.s.get(Letter, row.request_letter_id)
            if request_letter is not None:
                reference = request_letter.title
        subject = f"建议对{values['subject']}予以{values['action']}"
        letter = draft_from_template(
            self.letters, actor, "handling_result", {"reference": reference, "subject": subject}, [row.regulator],
            [row.verify_note or "（请说明核实过程和认定事实。）", f"{OUTCOMES[row.outcome]}：{row.result}"])
        row.result_letter_id = letter.id
        self.exchange.audit.record(actor, "exchange.revocation_letter_drafted", "revocation", row.id,
                                   {"letter": letter.id, "template": "handling_result"})
        return letter
