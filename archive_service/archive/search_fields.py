"""What filing adds to a document's search record: the 档号, the 保管期限 and the item's date."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Document
from .models import RETENTIONS, ArchiveItem, ItemPart

#: document kinds that can be parts of an item (uploaded files, letters' parts, imports, copies)
KINDS = ("file", "archive", "archive_copy", "letter_final", "processing_sheet", "letter_attachment",
         "meeting_material")


def extend(session: Session, doc: Document, rec: dict) -> None:
    item = session.scalar(select(ArchiveItem).join(ItemPart).where(ItemPart.document_id == doc.id).limit(1))
    if item is None:
        return
    numbers = list(rec.get("numbers") or [])
    if item.doc_number and item.doc_number not in numbers:
        numbers.append(item.doc_number)
    numbers.append(item.archival_code)
    rec["numbers"] = numbers
    rec["retention"] = RETENTIONS.get(item.retention, item.retention)
    if item.doc_date is not None and doc.kind == "archive":
        from datetime import datetime

        rec["date"] = datetime(item.doc_date.year, item.doc_date.month, item.doc_date.day)
