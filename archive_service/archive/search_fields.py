"""What filing adds to a document's search record: the 档号, the 保管期限 and the item's date."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..features import BatchExtender
from .models import RETENTIONS, ArchiveItem, ItemPart

#: document kinds that can be parts of an item (uploaded files, letters' parts, imports, copies)
KINDS = ("file", "archive", "archive_copy", "letter_final", "processing_sheet", "letter_attachment",
         "meeting_material")
#: batches larger than this select their documents' parts by id range (cheaper than binding every id)
RANGE_FROM = 500


def extend_many(session: Session, records: list[dict]) -> None:
    """The fields of the item each record's document is filed in (a document is in at most one item);
    one query for the batch."""
    ids = {int(rec["id"]) for rec in records}
    if not ids:
        return
    where = (ItemPart.document_id.between(min(ids), max(ids)) if len(ids) > RANGE_FROM
             else ItemPart.document_id.in_(ids))
    items: dict[int, tuple] = {}
    for doc_id, *fields in session.execute(
            select(ItemPart.document_id, ArchiveItem.doc_number, ArchiveItem.archival_code, ArchiveItem.retention,
                   ArchiveItem.doc_date).join(ArchiveItem, ArchiveItem.id == ItemPart.item_id)
            .where(where).order_by(ItemPart.document_id, ArchiveItem.id)):
        if doc_id in ids:
            items.setdefault(doc_id, tuple(fields))
    for rec in records:
        item = items.get(int(rec["id"]))
        if item is not None:
            _add(rec, *item)


def _add(rec: dict, doc_number: str | None, archival_code: str, retention: str, doc_date) -> None:
    numbers = list(rec.get("numbers") or [])
    if doc_number and doc_number not in numbers:
        numbers.append(doc_number)
    numbers.append(archival_code)
    rec["numbers"] = numbers
    rec["retention"] = RETENTIONS.get(retention, retention)
    if doc_date is not None and rec["kind"] == "archive":
        rec["date"] = datetime(doc_date.year, doc_date.month, doc_date.day)


EXTENDER = BatchExtender(extend_many)
