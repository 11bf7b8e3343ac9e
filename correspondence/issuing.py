"""登记 (the 发文字号 is taken) and 印发 (render, sign, store, distribute).

Where the issued files live: a dedicated "final" core document per letter (version 1 the DOCX,
version 2 the PAdES-signed PDF, the current version), plus a separate processing-sheet document.
Recipients are granted the final document only — never the draft document, whose JSON versions hold
the internal drafting history, nor the processing sheet with the internal opinions.

Write order: render and sign in memory first (the likely failures), then every blob into the store,
then all rows (documents, versions, grants, the state change, audit events, outbox rows) in the
caller's unit of work, which commits once — there is no half-issued letter.
"""
from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.clock import Clock, local_time
from archive_service.documents import DocumentService
from archive_service.errors import Unprocessable
from archive_service.models import Department, User
from archive_service.permissions import same_organisation
from archive_service.signoff import ACTIONS

from . import segment
from .compose import compose, joint_seal_positions, seal_position
from .fonts import FontConfig
from .layout import SEAL_DIAMETER
from .letters import SUBJECT, LetterService
from .minutes import mark_minutes_issued
from .models import Letter
from .numbering import Numbering
from .processing_sheet import render_processing_sheet
from .render_docx import render_docx, render_plan_docx
from .render_pdf import render_pdf, render_plan
from .seal import Seals
from .signing import SealStamp, make_signer, sign_pdf


def render_functions():
    """(render_pdf, render_docx) of the rendering module."""
    return render_pdf, render_docx


def spec_for(service: LetterService, letter: Letter, number: str | None = None,
             on: date | None = None) -> dict:
    """The render spec (correspondence.spec) of the letter's current version."""
    data = letter.data
    spec = {"kind": letter.kind, "issuer": letter.issuer.official_name, "title": data["title"], "sealed": True,
            "body": data["body"], "attachments": [a["name"] for a in data.get("attachments", [])],
            "note": data.get("note", ""), "date": (on or letter.written_on or service.clock.today()).isoformat(),
            "number": number or letter.number, "urgency": data.get("urgency") or None}
    if letter.kind == "minutes":
        spec["attendance"] = data.get("attendance") or {}
        if data.get("masthead"):
            spec["masthead"] = data["masthead"]
        spec["cc"] = data.get("distribution", [])
    else:
        spec["to"], spec["cc"] = data["to"], data["cc"]
        spec["co_issuers"] = [d.official_name for d in co_issuers(service, letter)]
        if data.get("upward"):
            spec["signer"] = service.signer_name(letter) or None
    return spec


def co_issuers(service: LetterService, letter: Letter) -> list[Department]:
    """The joint letter's other issuing organisations (会签机关), in the order the drafter named them."""
    names = letter.data.get("co_issuers") or []
    if not names:
        return []
    found = {d.name: d for d in service.s.scalars(select(Department).where(Department.name.in_(names)))}
    return [found[n] for n in names if n in found]


def parsed_spec(service: LetterService, letter: Letter):
    """The RenderSpec of the letter; a spec the renderer refuses becomes a 422 naming the field."""
    from .spec import SpecError, parse_spec

    segment.learn(segment.county_words(service.s))  # department and matter names are never split
    try:
        return parse_spec(spec_for(service, letter))
    except SpecError as exc:
        raise Unprocessable(f"公文内容无法排版：{exc.field}：{exc.message}", field=exc.field) from None


def render_preview(service: LetterService, letter: Letter) -> bytes:
    render_pdf, _ = render_functions()
    return render_pdf(parsed_spec(service, letter))


class Issuing:
    def __init__(self, session: Session, documents: DocumentService, clock: Clock, keys=None,
                 seals: Seals | None = None):
        self.s = session
        self.documents = documents
        self.clock = clock
        self.keys = keys  # correspondence.pki key source; None → the issued PDF cannot be signed
        instance = getattr(keys, "instance_dir", None)
        # the seal images (ARCHIVE_SEAL_DIR, else demo seals generated into the instance)
        self.seals = seals or (Seals(instance) if instance is not None else None)
        self.letters = LetterService(session, documents, clock)

    # -- 登记 --------------------------------------------------------------------------------------
    def register(self, user: User, letter: Letter, version_sha256: str) -> str:
        """登记: take the next 发文字号 of the issuing organisation in the same transaction."""
        flow = self.letters.flow(letter)
        self.letters.signoff.act(flow, user, "register", version_sha256)
        numbering = Numbering(self.s, self.clock)
        year = self.clock.today().year
        number, seq = numbering.next_number(numbering.prefix_for(letter.issuer, letter.kind), year)
        letter.number, letter.number_year, letter.number_seq = number, year, seq
        flow.steps[-1].opinion = f"发文字号：{number}"
        self.letters.audit.record(user, "letter.numbered", SUBJECT, letter.id, {"number": number})
        letter.updated_at = self.clock.now()
        self.s.flush()
        return number

    # -- 印发 --------------------------------------------------------------------------------------
    def issue(self, user: User, letter: Letter, version_sha256: str) -> Letter:
        flow = self.letters.flow(letter)
        self.letters.signoff.check(flow, user, "issue", version_sha256)
        if self.keys is None:
            raise Unprocessable("未配置签名密钥，不能印发")
        spec = parsed_spec(self.letters, letter)
        now = self.clock.now()
        plan = compose(spec)  # one page plan for the PDF, the DOCX and the seal's place
        pdf, docx = render_plan(plan, created=now), render_plan_docx(plan, FontConfig.from_env(), created=now)
        approver = self.letters.signer_name(letter) or user.full_name  # the 签发人, not who pressed 印发
        signer = make_signer(self.keys.material(letter.issuer))  # the issuer's key, for the letter and its sheet
        signed = sign_pdf(pdf, letter.issuer, signer_name=approver, reason="印发", keys=self.keys, signer=signer,
                          seal=self._seal(letter, plan), roles=[("签发人", approver), ("印发", user.full_name)])
        signed = self._co_seal(letter, flow, plan, signed)
        sheet = self.processing_sheet(letter, flow, user, signer=signer)
        base = letter.number or f"公文{letter.id}"
        docs = self.documents
        # Write order: every blob first, then one transaction for all the rows (no half-issued letter).
        docx_blob, pdf_blob, sheet_blob = (docs.store_bytes(io.BytesIO(data)) for data in (docx, signed, sheet))
        final = letter.final_document
        if final is None:
            final = docs.create_from_stored(user, *docx_blob, f"{base}.docx", letter.title, kind="letter_final")
            letter.final_document = final
            self._grant_internal(letter, flow, final, user)
        if final.current_version < 2:
            docs.add_stored_version(user, final, *pdf_blob, f"{base}.pdf")
        sheet_doc = letter.sheet_document
        if sheet_doc is None:
            sheet_doc = docs.create_from_stored(user, *sheet_blob, f"{base}-公文处理单.pdf",
                                                f"{letter.title}（公文处理单）", kind="processing_sheet")
            letter.sheet_document = sheet_doc
            self._grant_internal(letter, flow, sheet_doc, user)
        self._distribute(letter, final.id)
        self.letters.signoff.act(flow, user, "issue", version_sha256)
        letter.issued_at = letter.updated_at = self.clock.now()
        self._mark_reply(letter)
        self.letters.audit.record(user, "letter.issued", SUBJECT, letter.id, {
            "number": letter.number, "final_document": final.id, "sheet_document": sheet_doc.id,
            "docx_sha256": final.versions[0].blob_sha256, "pdf_sha256": final.versions[-1].blob_sha256,
            "recipients": [[r.department_id, r.role] for r in letter.recipients]})
        mark_minutes_issued(self.s, letter)
        self.s.flush()
        return letter

    def _seal(self, letter: Letter, plan) -> SealStamp | None:
        """The issuer's seal over the 署名 and 成文日期 (GB/T 9704 7.3.5.1), as the signature's appearance."""
        where = seal_position(plan)
        if where is None or self.seals is None:
            return None
        page, cx, cy = where
        joint = joint_seal_positions(plan)
        if joint:  # 联合发文: the issuer's name comes first, its seal over it (the last one presses the date)
            _name, page, cx, cy = joint[0]
        return SealStamp(self.seals.path(letter.issuer), page, cx, cy, SEAL_DIAMETER)

    def _co_seal(self, letter: Letter, flow, plan, pdf: bytes) -> bytes:
        """联合发文: each co-issuer's own signature, its seal the appearance over its 署名 (GB/T 9704 7.3.5.1),
        /Name the person who countersigned (会签) for it, appended after the issuer's."""
        co = co_issuers(self.letters, letter)
        places = joint_seal_positions(plan)
        if not co or len(places) != len(co) + 1:
            return pdf
        countersigned = {s.department_id: s.actor_name for s in flow.steps
                         if s.action == "countersign" and not s.voided}
        # the issuer's seal is the appearance of its own signature; the last place (over the date) and
        # the ones before it go to the co-issuers in order
        order = [letter.issuer, *co]
        for dept, (_name, page, cx, cy) in zip(order, places, strict=True):
            if dept.id == letter.issuer_id:
                continue
            who = countersigned.get(dept.id) or next(
                (n for d, n in countersigned.items() if same_organisation(self.s.get_one(Department, d), dept)), None)
            seal = SealStamp(self.seals.path(dept), page, cx, cy, SEAL_DIAMETER) if self.seals else None
            pdf = sign_pdf(pdf, dept, signer_name=who, reason="联合发文", keys=self.keys, seal=seal,
                           roles=[("会签", who)] if who else ())
        return pdf

    def _grant_internal(self, letter: Letter, flow, doc, clerk: User) -> None:
        """The drafting section, the issuer, the co-issuers and the issuing clerk's 办公室 keep the files."""
        depts = {letter.department_id, letter.issuer_id, clerk.department_id, *flow.co_department_ids}
        for dept_id in depts - {doc.department_id}:
            self.letters._grant(doc.id, dept_id, "issuer")

    def _distribute(self, letter: Letter, final_id: int) -> None:
        grant = self.letters._grant
        for r in letter.recipients:
            reason = "copy" if r.role == "cc" else "recipient"
            grant(final_id, r.department_id, reason)
            for att in letter.attachments:
                grant(att.document_id, r.department_id, reason)

    def _mark_reply(self, letter: Letter) -> None:
        """An issued reply (复函) closes the original's incoming item on the replying side."""
        if not letter.reply_to_id:
            return
        original = self.s.get_one(Letter, letter.reply_to_id)
        if letter.final_document_id and original.department_id != letter.department_id:
            # the original's drafting section sees the reply in the thread, not only its bureau
            self.letters._grant(letter.final_document_id, original.department_id, "thread")
        for r in original.recipients:
            if same_organisation(r.department, letter.issuer) and r.role != "cc":
                r.state, r.replied_at, r.reply_letter_id = "replied", self.clock.now(), letter.id

    # -- 公文处理单 -------------------------------------------------------------------------------
    def sheet_steps(self, letter: Letter, flow, issuer: User | None = None) -> list[dict]:
        """Rows of the processing sheet: {action, actor, at, opinion} (time in China)."""
        steps = [{"action": ACTIONS.get(s.action, s.action) + ("（已作废）" if s.voided else ""),
                  "actor": f"{s.actor_name}（{self.s.get_one(Department, s.department_id).name}）",
                  "at": local_time(s.at)[:16], "opinion": s.opinion or ""} for s in flow.steps]
        if issuer is not None:
            steps.append({"action": ACTIONS["issue"], "actor": f"{issuer.full_name}（{issuer.department.name}）",
                          "at": local_time(self.clock.now())[:16], "opinion": ""})
        return steps

    def sheet_fields(self, letter: Letter) -> list[tuple[str, str]]:
        """The 发文稿纸's fields: who issues, who drafted, to whom, 密级, 紧急程度, 份数, 公开属性, 附件."""
        data = letter.data
        to = data.get("to") or data.get("distribution") or []
        cc = data.get("cc") or []
        names = [a["name"] for a in data.get("attachments", [])]
        return [("发文机关", letter.issuer.official_name),
                ("拟稿", f"{letter.creator.full_name}（{letter.department.name}）"),
                ("主送" if data.get("to") else "分送", "、".join(to) or "无"), ("抄送", "、".join(cc) or "无"),
                ("密级", "非密"), ("紧急程度", letter.urgency or "无"),
                ("份数", f"{len(to) + len(cc)}份（电子公文）"),
                ("公开属性", data.get("disclosure") or "未标注"),
                ("附件", "、".join(names) or "无")]

    def processing_sheet(self, letter: Letter, flow, issuer: User | None = None, signer=None) -> bytes:
        """The 发文稿纸 (fields and every step with person, time and opinion), signed by the issuer's key when
        it is issued."""
        sheet = render_processing_sheet(letter.title, letter.number or "", self.sheet_steps(letter, flow, issuer),
                                        created=self.clock.now(), heading="发文稿纸",
                                        fields=self.sheet_fields(letter))
        if issuer is None or self.keys is None:
            return sheet
        approver = self.letters.signer_name(letter) or issuer.full_name
        return sign_pdf(sheet, letter.issuer, signer_name=approver, reason="发文稿纸", keys=self.keys,
                        roles=[("签发人", approver), ("印发", issuer.full_name)], signer=signer)

