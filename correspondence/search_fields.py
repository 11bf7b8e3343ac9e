"""What letters and minutes add to their search records: 发文字号, dates, a readable kind.

Declared in ``correspondence.feature.FEATURE`` (``RECORD_EXTENDERS``); the Runtime hands them to the indexer.
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive_service.models import Document

from .models import Letter

KIND_LABELS = {"letter": "函件", "minutes": "会议纪要"}


def _issued_letter(session: Session, doc: Document, rec: dict) -> None:
    """Final documents are searchable as 函件/会议纪要 under their 发文字号 and 成文日期."""
    letter = session.scalar(select(Letter).where(Letter.final_document_id == doc.id))
    if letter is None:
        return
    rec["kind"] = letter.kind
    rec["kind_label"] = KIND_LABELS.get(letter.kind, rec["kind_label"])
    if letter.number:
        rec["numbers"] = [letter.number]
    if letter.issued_at is not None:
        rec["date"] = letter.issued_at


def _letter_paperwork(session: Session, doc: Document, rec: dict) -> None:
    """Drafts and processing sheets carry the number once one is assigned."""
    letter = session.scalar(select(Letter).where(or_(Letter.document_id == doc.id,
                                                      Letter.sheet_document_id == doc.id)))
    if letter is not None and letter.number:
        rec["numbers"] = [letter.number]


RECORD_EXTENDERS = {"letter_final": [_issued_letter], "letter_draft": [_letter_paperwork],
                    "processing_sheet": [_letter_paperwork]}
