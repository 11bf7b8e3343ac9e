"""What letters and minutes add to their search records: 发文字号, dates, a readable kind, and the letter
each part belongs to.

Declared in ``correspondence.feature.FEATURE`` (``RECORD_EXTENDERS``); the Runtime hands them to the indexer.
Every document of a letter (its draft, the final DOCX/PDF, the 公文处理单, the attachments) carries
``group`` (``letter:<id>``), ``group_title`` and ``part`` (which part it is), so a search shows the letter
once with the parts that matched. A draft is indexed as the text of its fields, never as its JSON.
"""
from __future__ import annotations

import json

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive_service.models import Document
from search.results import FINAL_PART

from .models import Letter, LetterAttachment

KIND_LABELS = {"letter": "函件", "minutes": "会议纪要"}
#: JSON keys of a letter's content that are not text a reader sees
_NOT_TEXT = {"kind", "template", "urgency", "upward", "secrecy", "version", "layout", "sealed"}


def _group(rec: dict, letter: Letter, part: str) -> None:
    rec["group"] = f"letter:{letter.id}"
    rec["group_title"] = letter.title
    rec["part"] = part
    if letter.number:
        rec["numbers"] = [letter.number]


def content_text(content: str) -> str:
    """The readable text of a letter's canonical JSON: every string value, one per line, in order."""
    try:
        data = json.loads(content)
    except ValueError:
        return content
    out: list[str] = []

    def walk(value, key: str = "") -> None:
        if key in _NOT_TEXT:
            return
        if isinstance(value, str):
            if value.strip():
                out.append(value.strip())
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)

    walk(data)
    return "\n".join(out)


def _issued_letter(session: Session, doc: Document, rec: dict) -> None:
    """Final documents are searchable as 函件/会议纪要 under their 发文字号 and 成文日期."""
    letter = session.scalar(select(Letter).where(Letter.final_document_id == doc.id))
    if letter is None:
        return
    rec["kind"] = letter.kind
    rec["kind_label"] = KIND_LABELS.get(letter.kind, rec["kind_label"])
    _group(rec, letter, FINAL_PART)
    if letter.issued_at is not None:
        rec["date"] = letter.issued_at


def _letter_paperwork(session: Session, doc: Document, rec: dict) -> None:
    """Drafts (as the text of their fields) and processing sheets carry the number once one is assigned."""
    letter = session.scalar(select(Letter).where(or_(Letter.document_id == doc.id,
                                                      Letter.sheet_document_id == doc.id)))
    if letter is None:
        return
    if letter.document_id == doc.id:
        _group(rec, letter, "文稿")
        rec["body"] = content_text(letter.content)
    else:
        _group(rec, letter, "公文处理单")


def _attachment(session: Session, doc: Document, rec: dict) -> None:
    """A document attached to a letter is listed under that letter (附件n)."""
    row = session.scalar(select(LetterAttachment).where(LetterAttachment.document_id == doc.id)
                         .order_by(LetterAttachment.id).limit(1))
    if row is not None:
        _group(rec, row.letter, f"附件{row.position}：{row.name}")


RECORD_EXTENDERS = {"letter_final": [_issued_letter], "letter_draft": [_letter_paperwork],
                    "processing_sheet": [_letter_paperwork],
                    "letter_attachment": [_attachment]}
