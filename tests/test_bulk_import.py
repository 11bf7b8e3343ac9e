"""The corpus import (``BulkImporter``) writes each batch as a few multi-row inserts: what a user and
an auditor see afterwards must be what one upload per document would have left."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from archive_service.audit import verify_chain, verify_versions
from archive_service.bulk_import import BulkImporter
from archive_service.indexing_models import TextExtraction
from archive_service.models import AuditEvent, Document, DocumentCount, DocumentVersion, OutboxEntry, User


def test_bulk_import_keeps_documents_audit_chain_counts_and_outbox(rt, make):
    drafter = make.user(username="drafter")
    make.document(drafter)  # an upload before the import: the chain goes on from its event
    items = [{"id": f"a-{i}", "title": f"条例 第{i}条", "body": f"导入的条文内容{i}。"} for i in range(7)]
    items.insert(3, {"id": "empty", "title": "空", "body": ""})
    with rt.factory() as s:
        before_docs = s.scalar(select(func.count()).select_from(Document))
        user = s.get_one(User, drafter.id)
        report = BulkImporter(rt.factory, rt.store, rt.clock, user, batch=3).run(iter(items))
    assert (report.imported, report.skipped) == (7, 1) and report.errors == ["empty: 缺少 body"]

    with rt.factory() as s:
        docs = s.scalars(select(Document).where(Document.title.like("条例%")).order_by(Document.id)).all()
        assert [d.title for d in docs] == [f"条例 第{i}条" for i in range(7)]
        assert all(d.department_id == drafter.department_id and d.revision == 1 and not d.catalogue for d in docs)
        versions = {v.document_id: v for v in s.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id.in_([d.id for d in docs])))}
        assert [versions[d.id].filename for d in docs] == [f"a-{i}.txt" for i in range(7)]
        assert b"".join(rt.store.open(versions[docs[2].id].blob_sha256)).decode() == "导入的条文内容2。"
        texts = {t.document_id: t.text for t in s.scalars(select(TextExtraction))}
        assert [texts[d.id] for d in docs] == [f"导入的条文内容{i}。" for i in range(7)]
        # the department's document count (kept by triggers) includes the imported rows
        assert s.get_one(DocumentCount, drafter.department_id).n == before_docs + 7
        # one upload event per document, chained after the earlier one; the chain and versions verify
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "document.upload")
                           .order_by(AuditEvent.id)).all()
        imported = [e for e in events if json.loads(e.details).get("via") == "import-corpus"]
        assert [e.target_id for e in imported] == [str(d.id) for d in docs]
        assert json.loads(imported[0].details)["sha256"] == versions[docs[0].id].blob_sha256
        assert verify_chain(s).ok
        assert verify_versions(s)[1] == []
        pending = s.scalars(select(OutboxEntry.document_id).where(OutboxEntry.processed_at.is_(None))).all()
        assert {d.id for d in docs} <= set(pending)

    rt.worker().drain()
    from search.query import parse
    from search.results import Viewer

    result = rt.search_engine.search(parse("条文内容5"), Viewer(drafter.department_id))
    assert [h.id for h in result.hits] == [str(docs[5].id)]
