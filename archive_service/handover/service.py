"""Manifests (移交清单), their states through the core sign-off chain, receipt checks and custody transfer.

States (``Handover.state``) and who moves them — each signature is a step of a core ``SignoffFlow``
bound to the revision's digest (editing makes a new revision with a new digest and new flows):

    draft ─submit (sender archivist)─▶ submitted ─sign (sender signer)─▶ signed
      ▲                                                                    │ receive (receiver archivist:
      │ edit (a new revision)                                              ▼         receipt checks run)
    rejected ◀──reject (receiver archivist, reasons)── received ──accept (receiver archivist)──▶ accepting
                                                                     sign (receiver signer) ──▶ accepted
                                                                     (custody moves in the same transaction)

Every move is a conditional UPDATE on the manifest's state, so of two people acting at once one wins
and the other gets 409. Services flush and never commit.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import permissions
from ..archive.models import ArchiveItem
from ..audit import AuditLog
from ..clock import Clock
from ..errors import Conflict, Forbidden, InvalidTransition, NotFound, Unprocessable
from ..models import Department, Document, DocumentGrant, User
from ..signoff import Signoff, SignoffFlow
from ..storage.base import ObjectStore
from . import record
from .checks import blocking_failures, receipt_checks
from .models import PURPOSES, STATES, Handover, HandoverClaim, HandoverLine, HandoverRevision

SUBJECT = "handover"
ACTIONS = {"submit": "提交", "sign": "签署", "receive": "接收检验", "accept": "同意接收", "reject": "退回"}
GRANT_REASON = "handover"
MAX_ITEMS = 10000


def organisation(dept: Department) -> Department:
    return permissions.issuing_organisation(dept)


def line_digest(lines: list[HandoverLine]) -> str:
    """SHA-256 of the canonical lines: what the sender's signer signs."""
    canon = [[ln.seq, ln.item_id, ln.archival_code, ln.doc_number, ln.responsible, ln.title,
              ln.doc_date.isoformat() if ln.doc_date else "", ln.pages, ln.retention, ln.size, ln.sha256, ln.sm3,
              json.loads(ln.parts)] for ln in lines]
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


class PdfSigner(Protocol):
    """``sign(pdf, department, signer_name, reason, ...) -> signed pdf``: a PAdES signature with the
    department's key as an incremental update, injected by the wiring layer (the signing module lives in
    a feature package above this one). ``reserve`` = [(field, page, box)] adds empty signature fields
    covered by this signature; ``field`` signs into such a field with ``stamp_text`` as its appearance."""

    def __call__(self, pdf: bytes, department: Department, name: str, reason: str, *, field: str | None = None,
                 stamp_text: str | None = None, reserve: Sequence[tuple[str, int, tuple]] = ()) -> bytes: ...


def record_name(sha256: str) -> str:
    """The store record holding a sender-signed 交接文据 PDF (content-addressed: written once)."""
    return f"handover-records/{sha256}.pdf"


class HandoverService:
    def __init__(self, session: Session, store: ObjectStore, clock: Clock, verifier=None,
                 pdf_signer: PdfSigner | None = None, archive=None):
        self.s, self.store, self.clock, self.verifier = session, store, clock, verifier
        self.pdf_signer, self.archive = pdf_signer, archive
        self.signoff = Signoff(session, clock)

    # -- reading ---------------------------------------------------------------------------------
    def get(self, user: User, handover_id: int) -> Handover:
        h = self.s.get(Handover, handover_id)
        if h is None or not self.can_view(user, h):
            raise NotFound("移交清单不存在或无权查看")
        return h

    def can_view(self, user: User, h: Handover) -> bool:
        org = organisation(user.department).id
        if org == h.from_department_id:
            return permissions.has_role(user, "archivist", "signer")
        if org == h.to_department_id and h.state not in {"draft", "submitted"}:
            return permissions.has_role(user, "archivist", "signer")
        return False

    def mine(self, user: User) -> list[Handover]:
        """Manifests the user's organisation sends (any state) or receives (once signed)."""
        if not permissions.has_role(user, "archivist", "signer"):
            return []
        org = organisation(user.department).id
        q = select(Handover).where((Handover.from_department_id == org) | (
            (Handover.to_department_id == org) & Handover.state.not_in(("draft", "submitted"))))
        return list(self.s.scalars(q.order_by(Handover.updated_at.desc(), Handover.id.desc()).limit(500)))

    def to_do(self, user: User) -> list[tuple[Handover, str]]:
        """(manifest, what the user should do) for 我的工作."""
        out = []
        for h in self.mine(user):
            action = next((a for a in ("submit", "sign", "receive", "accept")
                           if self.allowed(user, h, a) is None), None)
            if action is None and h.state == "rejected" and self._is_sender_archivist(user, h):
                action = "fix"
            if action:
                out.append((h, action))
        return out

    def flow(self, revision: HandoverRevision, which: str) -> SignoffFlow | None:
        fid = revision.sender_flow_id if which == "sender" else revision.receiver_flow_id
        return self.s.get(SignoffFlow, fid) if fid else None

    # -- building --------------------------------------------------------------------------------
    def _is_sender_archivist(self, user: User, h: Handover) -> bool:
        return organisation(user.department).id == h.from_department_id and permissions.has_role(user, "archivist")

    def _is_receiver_archivist(self, user: User, h: Handover) -> bool:
        return organisation(user.department).id == h.to_department_id and permissions.has_role(user, "archivist")

    def receiver(self, code_or_id: str | int) -> Department:
        q = select(Department).where(Department.id == code_or_id) if isinstance(code_or_id, int) else \
            select(Department).where((Department.code == code_or_id) | (Department.name == code_or_id))
        dept = self.s.scalar(q)
        if dept is None:
            raise Unprocessable(f"接收单位“{code_or_id}”不存在")
        return organisation(dept)

    def items_by(self, user: User, fonds: str | None = None, year: int | None = None,
                 retention: str | None = None, unit: str | None = None) -> list[int]:
        """Item ids of the user's organisation by 全宗/年度/保管期限(/机构), in 档号 order."""
        org = organisation(user.department).id
        q = select(ArchiveItem.id).where(ArchiveItem.department_id == org)
        for col, val in ((ArchiveItem.fonds, fonds), (ArchiveItem.year, year), (ArchiveItem.retention, retention),
                         (ArchiveItem.unit, unit)):
            if val is not None:
                q = q.where(col == val)
        return list(self.s.scalars(q.order_by(ArchiveItem.archival_code).limit(MAX_ITEMS + 1)))

    def items_matching(self, user: User, query: str) -> list[int]:
        """Item ids of the user's organisation whose 题名 or 档号 contains ``query``."""
        org = organisation(user.department).id
        like = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return list(self.s.scalars(select(ArchiveItem.id).where(
            ArchiveItem.department_id == org,
            ArchiveItem.title.like(like, escape="\\") | ArchiveItem.archival_code.like(like, escape="\\"))
            .order_by(ArchiveItem.archival_code).limit(MAX_ITEMS + 1)))

    def create(self, user: User, name: str, description: str, to_department: str | int, item_ids: list[int],
               purpose: str = "transfer") -> Handover:
        if not permissions.has_role(user, "archivist"):
            raise Forbidden("只有档案员可以编制移交清单")
        if purpose not in PURPOSES:
            raise Unprocessable("移交目的须为 transfer（移交）、reassign（划转事项档案）或 deposit（进馆）")
        sender = organisation(user.department)
        receiver = self.receiver(to_department)
        if receiver.id == sender.id:
            raise Unprocessable("接收单位不能是本单位")
        now = self.clock.now()
        h = Handover(name=name.strip(), description=(description or "").strip(), purpose=purpose,
                     from_department_id=sender.id, to_department_id=receiver.id, state="draft", revision=1,
                     created_by=user.id, created_at=now, updated_at=now)
        self.s.add(h)
        self.s.flush()
        self._new_revision(user, h, item_ids, 1)
        AuditLog(self.s, self.clock).record(user, "handover.create", SUBJECT, h.id, {
            "name": h.name, "to": receiver.code, "items": h.current.item_count, "digest": h.current.digest})
        return h

    def _items(self, user: User, h: Handover, item_ids: list[int]) -> list[ArchiveItem]:
        ids = list(dict.fromkeys(int(i) for i in item_ids))
        if not ids:
            raise Unprocessable("移交清单至少要有一件档案")
        if len(ids) > MAX_ITEMS:
            raise Unprocessable(f"一份移交清单最多 {MAX_ITEMS} 件")
        found = {i.id: i for i in self.s.scalars(select(ArchiveItem).where(ArchiveItem.id.in_(ids)))}
        foreign = [i for i in ids if i not in found or found[i].department_id != h.from_department_id]
        if foreign:
            raise NotFound(f"档案不存在或不属于本单位：{'、'.join(str(i) for i in foreign[:20])}", items=foreign)
        return sorted((found[i] for i in ids), key=lambda it: it.archival_code)

    def _claim(self, h: Handover, items: list[ArchiveItem]) -> None:
        ids = [i.id for i in items]
        taken = self.s.execute(select(HandoverClaim.item_id, HandoverClaim.handover_id).where(
            HandoverClaim.item_id.in_(ids), HandoverClaim.handover_id != h.id)).all()
        if taken:
            other = taken[0][1]
            code = next(i.archival_code for i in items if i.id == taken[0][0])
            raise Conflict(f"档案 {code} 已在另一份未完成的移交清单（编号 {other}）中", handover_id=other,
                           items=[t[0] for t in taken])
        self.s.execute(delete(HandoverClaim).where(HandoverClaim.handover_id == h.id,
                                                   HandoverClaim.item_id.not_in(ids)))
        have = set(self.s.scalars(select(HandoverClaim.item_id).where(HandoverClaim.handover_id == h.id)))
        for i in ids:
            if i not in have:
                self.s.add(HandoverClaim(item_id=i, handover_id=h.id))
        try:
            with self.s.begin_nested():
                self.s.flush()
        except IntegrityError:
            raise Conflict("有档案刚被加入另一份移交清单，请刷新后重试") from None

    def _new_revision(self, user: User, h: Handover, item_ids: list[int], number: int) -> HandoverRevision:
        items = self._items(user, h, item_ids)
        self._claim(h, items)
        rev = HandoverRevision(handover=h, number=number, digest="", state="draft", created_at=self.clock.now())
        self.s.add(rev)
        for seq, it in enumerate(items, 1):
            parts = [{"part_id": p.id, "role": p.role, "filename": p.filename, "size": p.size, "sha256": p.sha256,
                      "sm3": p.sm3, "format": p.media_type} for p in it.parts]
            main = it.parts[0] if it.parts else None
            rev.lines.append(HandoverLine(
                item_id=it.id, seq=seq, archival_code=it.archival_code, doc_number=it.doc_number or "",
                responsible=it.responsible or "", title=it.title or "", doc_date=it.doc_date, pages=it.pages or 0,
                retention=it.retention, size=sum(p["size"] for p in parts),
                sha256=main.sha256 if main else "", sm3=main.sm3 if main else "",
                parts=json.dumps(parts, ensure_ascii=False)))
        rev.item_count = len(rev.lines)
        rev.total_bytes = sum(ln.size for ln in rev.lines)
        rev.digest = line_digest(rev.lines)
        h.revision = number
        self.s.flush()
        return rev

    def edit(self, user: User, h: Handover, item_ids: list[int] | None = None, name: str | None = None,
             description: str | None = None) -> Handover:
        """Change a draft, or turn a rejected manifest into a new revision (the old one stays readable)."""
        if not self._is_sender_archivist(user, h):
            raise Forbidden("只有移交单位的档案员可以修改移交清单")
        if h.state not in {"draft", "rejected"}:
            raise InvalidTransition(f"当前状态为“{h.state_label}”，只有草稿或已退回的清单可以修改")
        rejected = h.state == "rejected"
        if rejected:
            self._move(h, {"rejected"}, "draft")
        if name is not None:
            h.name = name.strip()
        if description is not None:
            h.description = description.strip()
        ids = item_ids if item_ids is not None else [ln.item_id for ln in h.current.lines]
        if rejected:
            self._new_revision(user, h, ids, h.revision + 1)
        elif item_ids is not None:
            old = h.current
            h.revisions.remove(old)
            self.s.flush()
            self._new_revision(user, h, ids, old.number)
        h.updated_at = self.clock.now()
        AuditLog(self.s, self.clock).record(user, "handover.edit", SUBJECT, h.id, {
            "revision": h.revision, "items": h.current.item_count, "digest": h.current.digest})
        self.s.flush()
        return h

    # -- the chain -------------------------------------------------------------------------------
    def allowed(self, user: User, h: Handover, action: str) -> str | None:
        """None when ``user`` may take ``action`` now, else why not (Chinese)."""
        if action not in ACTIONS:
            return f"未知操作：{action}"
        state = h.state
        org = organisation(user.department).id
        if action == "submit":
            if state != "draft":
                return f"当前状态为“{h.state_label}”，不能提交"
            return None if self._is_sender_archivist(user, h) else "只有移交单位的档案员可以提交"
        if action == "sign":
            if state not in {"submitted", "accepting"}:
                return f"当前状态为“{h.state_label}”，不能签署"
            dept = h.from_department_id if state == "submitted" else h.to_department_id
            if org != dept or "signer" not in user.roles:
                side = "移交" if state == "submitted" else "接收"
                return f"只有{side}单位的签发人可以签署"
            return None
        if action == "receive":
            if state != "signed":
                return f"当前状态为“{h.state_label}”，不能接收"
            return None if self._is_receiver_archivist(user, h) else "只有接收单位的档案员可以接收"
        if state != "received":
            return f"当前状态为“{h.state_label}”，不能{ACTIONS[action]}"
        return None if self._is_receiver_archivist(user, h) else f"只有接收单位的档案员可以{ACTIONS[action]}"

    def _guard(self, user: User, h: Handover, action: str) -> None:
        why = self.allowed(user, h, action)
        if why is None:
            return
        if "只有" in why:
            raise Forbidden(why)
        raise InvalidTransition(why)

    def _move(self, h: Handover, from_states: set[str], to_state: str) -> None:
        """Compare-and-set on the row: of two concurrent moves one wins, the other is told (409)."""
        done = self.s.execute(update(Handover).where(Handover.id == h.id, Handover.state.in_(from_states))
                              .values(state=to_state, updated_at=self.clock.now())
                              .execution_options(synchronize_session=False))
        if getattr(done, "rowcount", 0) != 1:
            self.s.refresh(h)
            raise InvalidTransition(f"移交清单已被他人处理，当前状态为“{STATES.get(h.state, h.state)}”")
        self.s.refresh(h)
        h.current.state = to_state

    def act(self, user: User, h: Handover, action: str, reason: str = "", exceptions: list[dict] | None = None,
            store_check=True) -> Handover:
        self._guard(user, h, action)
        rev = h.current
        audit = AuditLog(self.s, self.clock)
        detail: dict = {"revision": rev.number, "digest": rev.digest}
        if action == "submit":
            if line_digest(rev.lines) != rev.digest:
                raise InvalidTransition("清单内容与摘要不符，请重新编辑")
            self._move(h, {"draft"}, "submitted")
            flow = self.signoff.start(SUBJECT, rev.id, h.from_department, rev.digest,
                                      state="signing")
            rev.sender_flow_id = flow.id
        elif action == "sign" and h.state == "submitted":
            sender_flow = self.flow(rev, "sender")
            if sender_flow is None or line_digest(rev.lines) != sender_flow.version_sha256:
                raise InvalidTransition("清单已修改，原签署作废，请重新提交")
            self._move(h, {"submitted"}, "signed")
            self.signoff.act(sender_flow, user, "sign", rev.digest, reason or "同意移交")
            if self.pdf_signer is not None:
                self._sign_sender_record(h, rev)
                detail["record_sha256"] = rev.sender_record_sha256
        elif action == "receive":
            self._move(h, {"signed"}, "received")
            report = receipt_checks(self.s, self.store, rev, h.from_department_id, self.verifier)
            rev.report = json.dumps(report, ensure_ascii=False)
            rev.checked_at = self.clock.now()
            detail.update(passed=report["passed"], failed_items=report["failed_items"])
        elif action == "reject":
            reason = (reason or "").strip()
            if not reason:
                raise Unprocessable("退回时须填写原因")
            self._move(h, {"received"}, "rejected")
            rev.decision_reason = reason
            detail["reason"] = reason
        elif action == "accept":
            exceptions = [dict(e) for e in exceptions or []]
            for e in exceptions:
                if not str(e.get("reason") or "").strip():
                    raise Unprocessable("每项例外都须写明理由")
            blocking = blocking_failures(json.loads(rev.report or "{}"), exceptions)
            if blocking:
                raise Conflict("接收检验未通过，不能接收：" + "；".join(blocking[:5])
                               + (f" 等 {len(blocking)} 项" if len(blocking) > 5 else ""), failures=blocking)
            self._move(h, {"received"}, "accepting")
            rev.exceptions = json.dumps(exceptions, ensure_ascii=False)
            rev.accepted_by = user.id
            flow = self.signoff.start(SUBJECT, rev.id, h.to_department, rev.digest,
                                      state="signing")
            rev.receiver_flow_id = flow.id
            detail["exceptions"] = exceptions
        elif action == "sign":  # the receiver's signer signs the acceptance: custody moves now
            receiver_flow = self.flow(rev, "receiver")
            if receiver_flow is None:
                raise InvalidTransition("尚未同意接收")
            self._move(h, {"accepting"}, "accepted")
            self.signoff.act(receiver_flow, user, "sign", rev.digest, reason or "同意接收")
            self._transfer(user, h)
            self._file_records(h, rev)
        h.updated_at = self.clock.now()
        audit.record(user, f"handover.{action}", SUBJECT, h.id, detail)
        self.s.flush()
        return h

    def _transfer(self, user: User, h: Handover) -> None:
        """Custody: the items and their documents become the receiver's; the sender keeps a read grant."""
        now = self.clock.now()
        h.accepted_at = now
        item_ids = [ln.item_id for ln in h.current.lines]
        items = list(self.s.scalars(select(ArchiveItem).where(ArchiveItem.id.in_(item_ids))))
        doc_ids = sorted({p.document_id for i in items for p in i.parts})
        grants = {tuple(r) for r in self.s.execute(select(DocumentGrant.document_id, DocumentGrant.department_id).where(
            DocumentGrant.reason == GRANT_REASON, DocumentGrant.document_id.in_(doc_ids))).all()}
        for item in items:
            item.department_id = h.to_department_id
            for doc_id in sorted({p.document_id for p in item.parts}):
                doc = self.s.get_one(Document, doc_id)
                keep = {doc.department_id, h.from_department_id} - {h.to_department_id}
                doc.department_id = h.to_department_id
                for dept_id in sorted(keep):
                    if (doc_id, dept_id) not in grants:
                        self.s.add(DocumentGrant(document_id=doc_id, department_id=dept_id, reason=GRANT_REASON,
                                                 granted_at=now, until=None))
        self.s.execute(delete(HandoverClaim).where(HandoverClaim.handover_id == h.id))
        AuditLog(self.s, self.clock).record(user, "handover.custody", SUBJECT, h.id, {
            "items": len(items), "from": h.from_department_id, "to": h.to_department_id})

    # -- 交接文据 ------------------------------------------------------------------------------------
    def record_fields(self, h: Handover, rev: HandoverRevision) -> record.RecordFields:
        def side(dept: Department, filler: User | None, flow: SignoffFlow | None) -> record.Side:
            step = flow.valid_signatures()[-1] if flow is not None and flow.valid_signatures() else None
            return record.Side(dept.official_name, filler.full_name if filler else "", step.actor_name if step else "",
                               step.at.strftime("%Y年%m月%d日") if step else "")

        accepter = self.s.get(User, rev.accepted_by) if rev.accepted_by else None
        return record.fields(h, rev, side(h.from_department, h.creator, self.flow(rev, "sender")),
                             side(h.to_department, accepter, self.flow(rev, "receiver")))

    def render_record(self, h: Handover, fmt: str) -> bytes:
        """The 交接文据 as it stands: the PDF signed by the sender's department once its signer signed the
        current revision, else an unsigned preview (the copies signed by both sides are filed at acceptance)."""
        if fmt == "pdf" and h.current.sender_record_sha256:
            return self.sender_record(h.current)
        f = self.record_fields(h, h.current)
        return record.render_pdf(f) if fmt == "pdf" else record.render_docx(f)

    def sender_record(self, rev: HandoverRevision) -> bytes:
        """The sender-signed 交接文据 PDF of ``rev`` as stored (its digest checked)."""
        assert rev.sender_record_sha256
        data = self.store.read_record(record_name(rev.sender_record_sha256))
        if hashlib.sha256(data).hexdigest() != rev.sender_record_sha256:
            raise InvalidTransition("移交方签名的交接文据与登记的摘要不符")
        return data

    def _sign_sender_record(self, h: Handover, rev: HandoverRevision) -> bytes:
        """Render the form with the sender's side, sign it with the sender department's key (reserving the
        receiver's signature box) and keep it in the store; its digest goes on the revision."""
        assert self.pdf_signer is not None
        f = self.record_fields(h, rev)
        slot: list = []
        pdf = record.render_pdf(f, slot=slot)
        page, box = slot[0]
        pdf = self.pdf_signer(pdf, h.from_department, f.sender.reviewed_by, "档案移交",
                              reserve=[(record.RECEIVER_FIELD, page, box)])
        sha = hashlib.sha256(pdf).hexdigest()
        with contextlib.suppress(Conflict):  # the same bytes are there already
            self.store.put_record(record_name(sha), pdf)
        rev.sender_record_sha256 = sha
        return pdf

    def _file_records(self, h: Handover, rev: HandoverRevision) -> None:
        """Sign the sender-signed 交接文据 with the receiver's key and file it as an item of each side (an
        imported package, never signed here by a sender, gets both signatures now)."""
        if self.archive is None:
            return
        from ..archive.sources import SourceBundle, SourcePart

        f = self.record_fields(h, rev)
        docx_bytes = record.render_docx(f)
        if self.pdf_signer is None:
            pdf = record.render_pdf(f)
        else:  # the receiver's signature is an incremental update of the sender-signed PDF
            sent = self.sender_record(rev) if rev.sender_record_sha256 else self._sign_sender_record(h, rev)
            pdf = self.pdf_signer(sent, h.to_department, f.receiver.reviewed_by, "档案接收",
                                  field=record.RECEIVER_FIELD, stamp_text=record.receiver_stamp(f))
        accepter = self.s.get_one(User, rev.accepted_by)
        docs = self.archive.docs
        title = f"{h.name}电子档案移交与接收登记表"[:300]
        sides = [("sender", h.creator, h.from_department), ("receiver", accepter, h.to_department)]
        if h.from_department_id == h.to_department_id:  # an imported package: one side here
            sides = sides[1:]
        for side, filer, dept in sides:
            parts: list[SourcePart] = []
            for data, name, role in ((pdf, "交接文据.pdf", "main"), (docx_bytes, "交接文据.docx", "docx")):
                stored, media_type = docs.store_bytes(io.BytesIO(data))
                doc = docs.create_from_stored(filer, stored, media_type, name, title, kind="archive")
                parts.append(SourcePart(doc, 1, role))
            bundle = SourceBundle(
                source_type="handover", source_id=f"{h.id}-r{rev.number}-{side}", department_id=filer.department_id,
                title=title, doc_number="", responsible=dept.official_name, doc_date=self.clock.today(),
                doc_type="登记表", kind_label="交接文据", parts=parts)
            item = self.archive.file(filer, bundle, "Y", None, title=title, action="archive.file")
            if side == "sender":
                h.sender_record_item_id = item.id
            else:
                h.receiver_record_item_id = item.id
        self.s.flush()

    # -- reports ---------------------------------------------------------------------------------
    def report(self, h: Handover, number: int | None = None) -> dict | None:
        rev = h.current if number is None else next((r for r in h.revisions if r.number == number), None)
        if rev is None:
            raise NotFound("该修订不存在")
        return json.loads(rev.report) if rev.report else None


def handover_for(rt, session: Session, pdf_signer: PdfSigner | None = None, archive=None) -> HandoverService:
    from ..archive import sources

    return HandoverService(session, rt.documents(session).store, rt.clock, sources.signature_verifier(rt.settings),
                           pdf_signer, archive)



def keepable_code(archive, org: Department, code: str, retention: str) -> str | None:
    """The package's 档号 when the receiving fonds can keep it, else None (a new one is allocated and
    the original goes into 备注). Kept when it is well-formed, names the receiving organisation's
    全宗号 and one of its 机构（问题）代码, agrees with the item's 保管期限, and no item has it yet."""
    from ..archive.codes import code_problem, parse_code

    if not code or code_problem(code):
        return None
    parsed = parse_code(code)
    fonds = archive.fondses.for_department(org)
    if parsed.fonds != fonds.code or parsed.retention != retention \
            or parsed.unit not in {u.code for u in fonds.units}:
        return None
    if archive.s.scalar(select(ArchiveItem.id).where(ArchiveItem.archival_code == code).limit(1)) is not None:
        return None
    return code


def import_package(svc: HandoverService, archive, user: User, package) -> Handover:
    """Create the items of a validated BagIt package in the user's organisation and a received manifest
    (receipt checks run) for them. ``archive`` is the archive service; the caller commits."""
    from datetime import date as _date

    from ..archive.sources import SourceBundle, SourcePart

    if not permissions.has_role(user, "archivist"):
        raise Forbidden("只有档案员可以导入移交数据包")
    org = organisation(user.department)
    docs = archive.docs
    item_ids = []
    archive.ensure_transaction()
    source = package.info.get("Source-Organization", "") or "外部系统"
    for imported in package.items:
        md = imported.metadata
        parts: list[SourcePart] = []
        for path, f in imported.files:
            if f.role == "stamped":
                continue  # our filing makes a new 归档章 copy
            with open(path, "rb") as fh:
                stored, media_type = docs.store_bytes(fh)
            doc = docs.create_from_stored(user, stored, media_type, path.name.split("-", 1)[-1], md.get("题名"),
                                          kind="archive")
            parts.append(SourcePart(doc, 1, "main" if not parts else ("attachment" if f.role == "main" else f.role)))
        day = md.get("日期", "")
        doc_date = _date(int(day[:4]), int(day[4:6]), int(day[6:8])) if re.fullmatch(r"\d{8}", day) else None
        bundle = SourceBundle(
            source_type="import", source_id=f"bag:{package.info.get('External-Identifier', '')}:{md.get('档号', '')}"
            f":{parts[0].document.id}", department_id=user.department_id, title=md.get("题名", ""),
            doc_number=md.get("文件编号", ""), responsible=md.get("责任者", "") or source, doc_date=doc_date,
            doc_type=md.get("文种", ""), kind_label="移交接收", parts=parts)
        retention = md.get("保管期限", "")
        original = md.get("档号", "").strip()
        kept = keepable_code(archive, org, original, retention)
        remarks = f"{source}移交，沿用原档号" if kept else f"原档号 {original}（{source}移交）"
        item = archive.file(user, bundle, retention, None, title=md.get("题名"), archival_code=kept,
                            remarks=remarks[:300], trigger="import", action="archive.import")
        item_ids.append(item.id)
    now = svc.clock.now()
    h = Handover(name=f"接收{source}移交数据包", description=package.info.get("External-Description", ""),
                 purpose="transfer", from_department_id=org.id, to_department_id=org.id, state="draft", revision=1,
                 source="bag", created_by=user.id, created_at=now, updated_at=now)
    svc.s.add(h)
    svc.s.flush()
    rev = svc._new_revision(user, h, item_ids, 1)
    h.state = rev.state = "received"
    report = receipt_checks(svc.s, svc.store, rev, org.id, svc.verifier)
    rev.report = json.dumps(report, ensure_ascii=False)
    rev.checked_at = now
    AuditLog(svc.s, svc.clock).record(user, "handover.import", SUBJECT, h.id, {
        "source": source, "items": len(item_ids), "passed": report["passed"]})
    svc.s.flush()
    return h
