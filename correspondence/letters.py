"""Drafting letters (函) and minutes (纪要): create from a template, edit, and walk the sign-off chain.

Each edit stores the letter's canonical JSON as a new version of its core document; the sign-off
flow is bound to that version's SHA-256, so a signature covers exactly the text (and the attachment
digests) it was given. Editing after 签发 makes a new version and voids the signatures (signoff.py).
"""
from __future__ import annotations

import hashlib
import io
import json
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from archive_service import permissions
from archive_service.audit import AuditLog
from archive_service.classification import NON_CLASSIFIED
from archive_service.clock import Clock
from archive_service.documents import DocumentService, clean_title
from archive_service.errors import Forbidden, InvalidTransition, NotFound, Unprocessable
from archive_service.listing import Cursor, KeysetPage, keyset_rows
from archive_service.models import Department, Document, DocumentGrant, User
from archive_service.signoff import Signoff, SignoffFlow, SignoffStep

from .models import DISCLOSURES, KINDS, URGENCIES, Letter, LetterAttachment, LetterRecipient

if TYPE_CHECKING:
    from .meeting_models import Meeting

SUBJECT = "letter"
FLOW_ACTIONS = {"submit", "pass", "return", "sign", "recheck"}  # register/issue: numbering, issuing


def canonical_bytes(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def check_classification(value) -> None:
    """Classified content must not enter this system (only 非密 documents are handled here)."""
    if value is None:
        return
    if str(value).strip() not in NON_CLASSIFIED:
        raise Unprocessable(f"本系统仅处理非密公文，不得录入密级为“{str(value).strip()}”的内容；"
                            "涉密公文请通过涉密渠道办理", field="classification")


_DRAFT_DOC, _FINAL_DOC = aliased(Document, name="draft_doc"), aliased(Document, name="final_doc")


class LetterService:
    def __init__(self, session: Session, documents: DocumentService, clock: Clock):
        self.s = session
        self.documents = documents
        self.clock = clock
        self.signoff = Signoff(session, clock)
        self.audit = AuditLog(session, clock)

    # -- reading ---------------------------------------------------------------------------------
    def can_see(self, user: User, letter: Letter) -> bool:
        """Readers of the draft document (drafting dept, issuer, co-issuers), the issuing organisation's
        办公室 (its clerks see every section's letters) or readers of the issued final."""
        if self.is_internal(user, letter):
            return True
        return letter.final_document is not None and permissions.can_read(user, letter.final_document)

    def get(self, user: User, letter_id: int) -> Letter:
        letter = self.s.get(Letter, letter_id)
        if letter is None or not self.can_see(user, letter):
            raise NotFound("公文不存在或无权查看")
        return letter

    def is_internal(self, user: User, letter: Letter) -> bool:
        """The user works for the issuing side (sees drafts, history, the processing sheet)."""
        return permissions.is_office_of(user, letter.issuer) or permissions.can_read(user, letter.document)

    def flow(self, letter: Letter) -> SignoffFlow:
        flow = self.signoff.flow_for(SUBJECT, letter.id)
        if flow is None:
            raise NotFound("该公文没有审签流程")
        return flow

    def visible(self, user: User) -> list[Letter]:
        """Letters whose draft or final document the user may read, newest change first (at most 500)."""
        return self.visible_page(user, 500).items

    def visible_page(self, user: User, size: int, after: Cursor | None = None) -> KeysetPage:
        """One keyset page of the letters the user may read, newest change first (``after``: the
        cursor of the previous page's last letter, by ``(updated_at, id)``, index ix_letters_updated_at_id).

        Walks letters by ``updated_at`` and checks each one's documents by primary key, so the cost
        follows the letters read, not the size of the department's document table."""
        draft, final = _DRAFT_DOC, _FINAL_DOC
        granted = permissions.granted_document_ids(user)
        office = permissions.office_organisation_id(user)  # a clerk sees the organisation's letters
        q = (select(Letter).join(draft, Letter.document_id == draft.id)
             .outerjoin(final, Letter.final_document_id == final.id)
             .where(or_(draft.department_id == user.department_id, final.department_id == user.department_id,
                        Letter.document_id.in_(granted), Letter.final_document_id.in_(granted),
                        Letter.issuer_id == (office or -1)))
             .options(selectinload(Letter.document)))
        return keyset_rows(self.s, q, Letter.updated_at, Letter.id, size, after=after)

    def worklists(self, user: User,
                  letters: list[Letter] | None = None) -> dict[str, list[tuple[Letter, SignoffFlow]]]:
        """drafts / review / sign / process (recheck, register, issue) / issued, for ``user``: of the
        given letters (a page of ``visible_page``), by default of ``visible(user)``."""
        out: dict[str, list[tuple[Letter, SignoffFlow]]] = {
            "drafts": [], "review": [], "sign": [], "process": [], "issued": [], "other": []}
        letters = self.visible(user) if letters is None else letters
        flows = self.signoff.flows_for(SUBJECT, [letter.id for letter in letters])  # one query, not one per letter
        granted_drafts = set(self.s.scalars(permissions.granted_document_ids(user).where(
            DocumentGrant.document_id.in_([letter.document_id for letter in letters])))) if letters else set()
        office = permissions.office_organisation_id(user)
        for letter in letters:  # internal: the user's side drafted it (is_internal, without a query per letter)
            if (letter.document.department_id != user.department_id and letter.document_id not in granted_drafts
                    and letter.issuer_id != office):
                continue
            flow = flows.get(letter.id)
            if flow is None:
                continue
            if flow.state == "issued":
                out["issued"].append((letter, flow))
            elif flow.state == "drafting" and letter.created_by == user.id:
                out["drafts"].append((letter, flow))
            elif flow.state == "reviewing" and self.signoff.allowed(flow, user, "pass"):
                out["review"].append((letter, flow))
            elif flow.state == "signing" and self.signoff.allowed(flow, user, "sign"):
                out["sign"].append((letter, flow))
            elif flow.state in {"rechecking", "registering", "registered"} and any(
                    self.signoff.allowed(flow, user, a) for a in ("recheck", "register", "issue")):
                out["process"].append((letter, flow))
            else:
                out["other"].append((letter, flow))
        return out

    # -- departments -----------------------------------------------------------------------------
    def _department(self, ref) -> Department:
        dept = None
        if isinstance(ref, Department):
            dept = ref
        elif isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            dept = self.s.get(Department, int(ref))
        elif isinstance(ref, str) and ref.strip():
            dept = self.s.scalar(select(Department).where(or_(Department.name == ref.strip(),
                                                              Department.code == ref.strip())))
        if dept is None:
            raise Unprocessable(f"部门不存在：{ref}")
        return dept

    def _departments(self, refs, field: str) -> list[Department]:
        if refs is None:
            return []
        if isinstance(refs, (str, int)):
            refs = [refs]
        if not isinstance(refs, (list, tuple)):
            raise Unprocessable(f"{field} 须为部门列表", field=field)
        out: list[Department] = []
        for ref in refs:
            d = self._department(ref)
            if d.id not in {x.id for x in out}:
                out.append(d)
        return out

    # -- validation ------------------------------------------------------------------------------
    def _clean(self, user: User, kind: str, fields: dict) -> dict:
        if kind not in KINDS:
            raise Unprocessable(f"未知文种：{kind}（可选：letter、minutes）", field="kind")
        check_classification(fields.get("classification"))
        title = clean_title(fields.get("title"), "")
        if not title:
            raise Unprocessable("标题不能为空", field="title")
        issuer = permissions.issuing_organisation(user.department)
        to = self._departments(fields.get("to"), "to")
        cc = self._departments(fields.get("cc"), "cc")
        dist = self._departments(fields.get("distribution"), "distribution")
        co = self._departments(fields.get("co_issuers"), "co_issuers")
        if kind == "letter" and not to:
            raise Unprocessable("请至少选择一个主送机关", field="to")
        if kind == "minutes":
            if to or cc:
                raise Unprocessable("纪要没有主送、抄送机关，请使用分送（distribution）", field="to")
            if not dist:
                raise Unprocessable("请至少选择一个分送单位", field="distribution")
        seen: set[int] = set()
        for d in to + cc + dist:
            if d.id in seen:
                raise Unprocessable(f"{d.name}不能既是主送又是抄送机关", field="cc")
            seen.add(d.id)
        for d in to + cc:
            if permissions.same_organisation(d, issuer):
                raise Unprocessable(f"不能向本机关（{d.name}）发函", field="to")
        co = [d for d in co if not permissions.same_organisation(d, issuer)]
        body = fields.get("body") or []
        if isinstance(body, str):
            body = body.splitlines()
        if not isinstance(body, list) or not all(isinstance(p, str) for p in body):
            raise Unprocessable("正文须为段落列表", field="body")
        body = [p.strip() for p in body if p.strip()]
        if not body:
            raise Unprocessable("正文不能为空", field="body")
        urgency = (fields.get("urgency") or "").strip()
        if urgency not in URGENCIES:
            raise Unprocessable("紧急程度只能为“特急”“加急”或不标注", field="urgency")
        disclosure = (fields.get("disclosure") or "").strip()
        if disclosure and disclosure not in DISCLOSURES:
            raise Unprocessable("公开属性只能为" + "、".join(f"“{d}”" for d in DISCLOSURES) + "或不标注",
                                field="disclosure")
        attendance = fields.get("attendance") or None
        if attendance is not None:
            if not isinstance(attendance, dict) or not set(attendance) <= {"出席", "请假", "列席"}:
                raise Unprocessable("出席情况须为 {出席, 请假, 列席} 名单", field="attendance")
            attendance = {k: [str(x).strip() for x in v if str(x).strip()] for k, v in attendance.items()}
        note = " ".join((fields.get("note") or "").split())[:200]
        masthead = (fields.get("masthead") or "").strip()[:40] or None
        return {"kind": kind, "template": str(fields.get("template") or "")[:40], "title": title,
                "issuer": issuer, "to": to, "cc": cc, "distribution": dist, "co_issuers": co, "body": body,
                "urgency": urgency, "disclosure": disclosure, "upward": bool(fields.get("upward")), "note": note,
                "attendance": attendance, "meeting_id": fields.get("meeting_id"), "masthead": masthead,
                "reply_to_id": fields.get("reply_to_id")}

    def _canonical(self, c: dict, attachments: list[LetterAttachment]) -> dict:
        names = lambda ds: [d.name for d in ds]  # noqa: E731
        return {"kind": c["kind"], "template": c["template"], "title": c["title"], "issuer": c["issuer"].name,
                "to": names(c["to"]), "cc": names(c["cc"]), "distribution": names(c["distribution"]),
                "co_issuers": names(c["co_issuers"]), "body": c["body"], "urgency": c["urgency"],
                "classification": "非密", "upward": c["upward"], "note": c["note"],
                "attendance": c["attendance"], "meeting_id": c["meeting_id"], "reply_to_id": c["reply_to_id"],
                "masthead": c["masthead"],
                **({"disclosure": c["disclosure"]} if c["disclosure"] else {}),  # unmarked: as before the field
                "attachments": [{"name": a.name, "sha256": a.document.versions[-1].blob_sha256}
                                for a in attachments]}

    # -- writing ---------------------------------------------------------------------------------
    def create_draft(self, user: User, kind: str = "letter", meeting: Meeting | None = None, **fields) -> Letter:
        """Create a draft (拟稿). Minutes: ``distribution`` instead of to/cc, plus ``attendance``.

        Minutes are drafted only from their meeting (第二十五条): ``MinutesService.draft`` checks the
        convener's people and the meeting's state and passes the ``meeting``, whose chair alone signs.
        A request naming ``kind: minutes`` (with or without a ``meeting_id``) is refused."""
        if kind == "minutes" and meeting is None:
            raise Unprocessable("会议纪要只能从会议起草（第二十五条）：请在会议页面登记出席后起草纪要", field="kind")
        if "drafter" not in user.roles and kind == "letter":
            raise Forbidden("拟稿需要“拟稿人”角色")
        fields["meeting_id"] = meeting.id if kind == "minutes" and meeting is not None else None
        c = self._clean(user, kind, fields)
        if c["reply_to_id"] is not None:
            original = self.get(user, int(c["reply_to_id"]))
            if original.issued_at is None:
                raise Unprocessable("只能答复已印发的来文", field="reply_to_id")
        data = self._canonical(c, [])
        raw = canonical_bytes(data)
        stored, media_type = self.documents.store_bytes(io.BytesIO(raw))
        doc = self.documents.create_from_stored(user, stored, media_type, "letter.json", c["title"],
                                                kind="letter_draft")
        now = self.clock.now()
        letter = Letter(kind=kind, template=c["template"], title=c["title"], department_id=user.department_id,
                        issuer_id=c["issuer"].id, document_id=doc.id, content=raw.decode("utf-8"),
                        content_sha256=hashlib.sha256(raw).hexdigest(), urgency=c["urgency"],
                        upward=c["upward"], meeting_id=c["meeting_id"], reply_to_id=c["reply_to_id"],
                        created_by=user.id, created_at=now, updated_at=now)
        self._set_recipients(letter, c)
        self.s.add(letter)
        self.s.flush()
        self._grant_internal(doc, letter, c["co_issuers"])
        self.signoff.start(SUBJECT, letter.id, c["issuer"], letter.content_sha256, c["co_issuers"])
        self.audit.record(user, "letter.drafted", SUBJECT, letter.id, {
            "kind": kind, "title": c["title"], "sha256": letter.content_sha256, "document": doc.id})
        self.s.flush()
        return letter

    def can_edit(self, user: User, letter: Letter) -> bool:
        return (permissions.same_organisation(user.department, letter.issuer)
                and permissions.can_read(user, letter.document)
                and bool(user.roles & {"drafter", "reviewer", "signer"}))

    def update(self, user: User, letter: Letter, seen_sha256: str | None = None, **fields) -> Letter:
        """Edit: a new JSON version; after 签发 the signatures are void and signing starts again."""
        flow = self.flow(letter)
        if not self.can_edit(user, letter):
            raise Forbidden("只有发文机关的拟稿人、核稿人或签发人可以修改文稿")
        if flow.state in {"registered", "issued"}:
            raise InvalidTransition("已登记或已印发的公文不能修改")
        if seen_sha256 and seen_sha256 != letter.content_sha256:
            raise InvalidTransition("文稿已有新版本，请刷新后基于最新版本修改")
        current = letter.data
        merged = {k: current.get(k) for k in ("template", "title", "body", "urgency", "disclosure", "upward", "note",
                                               "attendance", "meeting_id", "reply_to_id", "masthead")}
        for key in ("to", "cc", "distribution", "co_issuers"):
            merged[key] = current.get(key) or []
        merged.update({k: v for k, v in fields.items() if v is not None and k != "meeting_id"})  # bound at drafting
        c = self._clean(letter.creator, letter.kind, merged)
        if {d.id for d in c["co_issuers"]} != set(flow.co_department_ids):
            raise Unprocessable("会签机关在拟稿时确定，不能修改", field="co_issuers")
        return self._store_version(user, letter, flow, c)

    def _store_version(self, user, letter, flow, c) -> Letter:
        raw = canonical_bytes(self._canonical(c, letter.attachments))
        sha = hashlib.sha256(raw).hexdigest()
        if sha == letter.content_sha256:
            return letter
        stored, media_type = self.documents.store_bytes(io.BytesIO(raw))  # blob first
        letter.title, letter.urgency, letter.upward = c["title"], c["urgency"], c["upward"]
        letter.content, letter.content_sha256 = raw.decode("utf-8"), sha
        letter.updated_at = self.clock.now()
        letter.written_on = None
        letter.document.title = c["title"]
        self._set_recipients(letter, c)
        self.signoff.revise(flow, user, sha)
        self.audit.record(user, "letter.revised", SUBJECT, letter.id, {"sha256": sha})
        self.documents.add_stored_version(user, letter.document, stored, media_type, "letter.json")
        return letter

    def add_attachment(self, user: User, letter: Letter, stream, filename: str) -> LetterAttachment:
        flow = self.flow(letter)
        if not self.can_edit(user, letter):
            raise Forbidden("只有发文机关的拟稿人、核稿人或签发人可以添加附件")
        if flow.state in {"registered", "issued"}:
            raise InvalidTransition("已登记或已印发的公文不能修改")
        doc = self.documents.upload(user, stream, filename, kind="letter_attachment")
        name = doc.title
        att = LetterAttachment(letter=letter, document_id=doc.id, position=len(letter.attachments) + 1, name=name)
        self.s.add(att)
        self.s.flush()
        for dept_id in {letter.department_id, letter.issuer_id, *flow.co_department_ids} - {doc.department_id}:
            self._grant(doc.id, dept_id, "issuer")
        self._store_version(user, letter, flow, self._clean(letter.creator, letter.kind, letter.data))
        return att

    def _set_recipients(self, letter: Letter, c: dict) -> None:
        wanted = [(d, "to") for d in c["to"]] + [(d, "cc") for d in c["cc"]] + \
                 [(d, "distribution") for d in c["distribution"]]
        existing = {r.department_id: r for r in letter.recipients}
        keep = []
        for d, role in wanted:
            row = existing.get(d.id) or LetterRecipient(department_id=d.id, state="pending")
            row.role = role
            keep.append(row)
        letter.recipients = keep

    def _grant_internal(self, doc: Document, letter: Letter, co: list[Department]) -> None:
        for dept_id in {letter.issuer_id, *(d.id for d in co)} - {doc.department_id}:
            self._grant(doc.id, dept_id, "issuer")

    def _grant(self, document_id: int, department_id: int, reason: str) -> None:
        exists = self.s.scalar(select(DocumentGrant).where(
            DocumentGrant.document_id == document_id, DocumentGrant.department_id == department_id,
            DocumentGrant.reason == reason))
        if exists is None:
            self.s.add(DocumentGrant(document_id=document_id, department_id=department_id, reason=reason,
                                     granted_at=self.clock.now(), until=None))

    # -- the chain -------------------------------------------------------------------------------
    def act(self, user: User, letter: Letter, action: str, version_sha256: str, opinion: str = "") -> SignoffStep:
        """submit / pass / return / sign / recheck on the version the user saw."""
        if action not in FLOW_ACTIONS:
            raise InvalidTransition(f"未知或不可在此执行的操作：{action}")
        flow = self.flow(letter)
        if action == "sign":
            self._check_minutes_chair(user, letter)
        step = self.signoff.act(flow, user, action, version_sha256, opinion)
        if action == "sign" and flow.state == "rechecking":
            letter.written_on = self.clock.today()  # 成文日期: the day the last signer signed
        letter.updated_at = self.clock.now()
        self.s.flush()
        return step

    def _check_minutes_chair(self, user: User, letter: Letter) -> None:
        """Minutes are signed off by the meeting's chair (第二十五条), not by any signer."""
        if letter.kind != "minutes":
            return
        from .meeting_models import Meeting

        meeting = self.s.get(Meeting, letter.meeting_id) if letter.meeting_id is not None else None
        if meeting is None:
            raise Forbidden("该纪要未关联会议，不能审签（纪要只能从会议起草）")
        if meeting.chair_id != user.id:
            raise Forbidden(f"会议纪要须由会议主持人{meeting.chair.full_name}审签")

    def signer_name(self, letter: Letter) -> str:
        """签发人 (printed on upward letters): the issuing organisation's signer."""
        flow = self.flow(letter)
        for step in reversed(flow.valid_signatures()):
            if step.action == "sign":
                return step.actor_name
        return ""

    def thread(self, user: User, letter: Letter) -> list[Letter]:
        """The letter it answers and the replies to it, those the user may see."""
        out: list[Letter] = []
        seen = {letter.id}
        cur = letter
        while cur.reply_to_id and cur.reply_to_id not in seen:
            cur = self.s.get_one(Letter, cur.reply_to_id)  # a foreign key: the letter exists
            seen.add(cur.id)
            out.insert(0, cur)
        frontier = [letter.id]
        while frontier:
            replies = list(self.s.scalars(select(Letter).where(Letter.reply_to_id.in_(frontier))))
            frontier = [r.id for r in replies if r.id not in seen]
            seen.update(frontier)
            out.extend(r for r in replies if r.id in frontier)
        return [x for x in out if self.can_see(user, x)]
