"""Tables of the search feature: extracted text per document version, and indexing failures."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

# extraction status → Chinese label (shown on the document page)
EXTRACTION_STATUS = {"ok": "已提取", "ocr": "已识别（OCR）", "empty": "无文字内容", "unsupported": "格式不支持全文检索",
                     "failed": "提取失败", "limited": "未提取", "partial": "识别中"}


class TextExtraction(Base):
    """The text of one document version, extracted once (OCR is slow) and reused by every reindex."""
    __tablename__ = "text_extractions"
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"),
                                            primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    chars: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    extracted_at: Mapped[datetime] = mapped_column(DateTime)
    # where each page's text ends in ``text`` (PDF and OCR; a hit's offset names its page)
    page_ends: Mapped[list | None] = mapped_column(JSON, deferred=True)
    # OCR only: per page the recognised lines with their pixel boxes (for the searchable PDF copy)
    layout: Mapped[list | None] = mapped_column(JSON, deferred=True)


class IndexFailure(Base):
    """A document the indexer could not index; cleared when it is indexed later."""
    __tablename__ = "index_failures"
    document_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(DateTime)


class ExtractionJob(Base):
    """A document version waiting for (or in) text extraction in the sandbox; deleted when done.

    The worker's extraction thread claims one job at a time (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL), extracts outside any transaction and keeps ``available_at`` ahead of the clock while
    it works (a lease: a job of a worker that died is taken up again). ``pages_done`` /
    ``pages_total`` are the OCR progress shown on the document page.
    """
    __tablename__ = "extraction_jobs"
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"),
                                            primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(80))
