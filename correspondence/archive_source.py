"""Issued letters and minutes as archive sources: one 件 = signed PDF, DOCX, 公文处理单 and attachments.

Registered with the archive when the app or a command is built (``register``); the archive never
imports this package.
"""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from archive_service.archive.models import ArchiveItem
from archive_service.archive.sources import SourceBundle, SourcePart, register_signature_verifier, register_source
from archive_service.models import Document

from .models import KINDS, Letter


class LetterSource:
    source_type = "letter"
    label = "函件与纪要"
    document_kinds = frozenset({"letter_final", "letter_draft", "processing_sheet", "letter_attachment"})

    def bundle(self, letter: Letter) -> SourceBundle | None:
        if letter.final_document is None:
            return None  # not issued yet
        final = letter.final_document
        parts: list[SourcePart] = []
        pdf = next((v for v in final.versions if v.filename.lower().endswith(".pdf")), None)
        docx = next((v for v in final.versions if v.filename.lower().endswith(".docx")), None)
        if pdf is not None:
            parts.append(SourcePart(final, pdf.number, "main"))
        if docx is not None:
            parts.append(SourcePart(final, docx.number, "docx"))
        if letter.sheet_document is not None:
            parts.append(SourcePart(letter.sheet_document, letter.sheet_document.current_version, "sheet"))
        for a in letter.attachments:
            parts.append(SourcePart(a.document, a.document.current_version, "attachment"))
        day = letter.written_on or (letter.issued_at.date() if letter.issued_at else None)
        return SourceBundle(
            source_type=self.source_type, source_id=str(letter.id), department_id=letter.department_id,
            title=letter.title, doc_number=letter.number or "", responsible=letter.issuer.official_name, doc_date=day,
            doc_type=KINDS.get(letter.kind, letter.kind), kind_label="会议纪要" if letter.kind == "minutes" else "函件",
            parts=parts, required_roles=("main", "sheet"), created_at=letter.issued_at)

    def get(self, session: Session, source_id: int) -> SourceBundle | None:
        letter = session.get(Letter, source_id)
        return self.bundle(letter) if letter is not None else None

    def for_document(self, session: Session, document: Document) -> SourceBundle | None:
        letter = session.scalar(select(Letter).where(
            (Letter.final_document_id == document.id) | (Letter.sheet_document_id == document.id)
            | (Letter.document_id == document.id)))
        return self.bundle(letter) if letter is not None else None

    def candidates(self, session: Session, department_ids: list[int], year: int | None,
                   limit: int) -> list[SourceBundle]:
        filed = exists().where(ArchiveItem.source_type == self.source_type,
                               ArchiveItem.source_id == Letter.id.cast(ArchiveItem.source_id.type))
        q = (select(Letter).where(Letter.issuer_id.in_(department_ids), Letter.final_document_id.is_not(None), ~filed)
             .order_by(Letter.issued_at, Letter.id).limit(limit))
        out = []
        for letter in session.scalars(q):
            b = self.bundle(letter)
            if b is not None and (year is None or b.year == year):
                out.append(b)
        return out


def _verifier_factory(settings):
    from .pki import key_source
    from .signing import verify_pdf

    roots = key_source(settings).trust_roots()

    def verify(data: bytes):
        report = verify_pdf(data, roots)
        if not report.signed:
            return None, "未签名"
        return report.ok, report.summary

    return verify


def register() -> None:
    register_source(LetterSource())
    register_signature_verifier(_verifier_factory)
