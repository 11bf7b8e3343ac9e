"""Archive lookup (档案调阅, 第二十九条 档案互通): catalogue sharing, requests, per-item decisions,
time-boxed grants through the core's ``DocumentGrant`` (reason ``lookup``), reading as page images,
watermarked copies and the access log.

It builds on the core and the archive feature and never imports the features above it (the 调阅函
is drafted by the web layer through correspondence). Its ``Feature`` is in ``feature``.
"""
from __future__ import annotations


def _original_closed(session, user, doc) -> str | None:
    """A document read only through a lookup grant is read on the lookup pages, never downloaded."""
    from sqlalchemy import select

    from ..models import DocumentGrant
    from .service import REASON

    if doc.department_id == user.department_id:
        return None
    reasons = set(session.scalars(select(DocumentGrant.reason).where(
        DocumentGrant.document_id == doc.id, DocumentGrant.department_id == user.department_id)))
    if reasons and reasons <= {REASON}:
        return "调阅的档案只能在调阅页面在线查阅或下载水印复制件，不能下载原件"
    return None


def original_closed(session, user, doc) -> str | None:
    return _original_closed(session, user, doc)
