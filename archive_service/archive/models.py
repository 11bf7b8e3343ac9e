"""Tables of the archive (档案): fonds (全宗), unit codes (机构/问题), item-number counters, items (件) and
their parts, four-property check reports, disposal reviews (鉴定) and import runs.

An item points at the core documents (and the exact versions) it holds; it never copies their bytes.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Department, Document, User

RETENTIONS = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}
RETENTION_YEARS = {"Y": None, "D30": 30, "D10": 10}
CATEGORY = "WS"  # 门类代码: 文书
PART_ROLES = {"main": "正本", "docx": "正本（DOCX）", "sheet": "公文处理单", "draft": "定稿",
              "attachment": "附件", "stamped": "归档章副本"}


class Fonds(Base):
    """全宗: one per holding organisation, its code set by an administrator (e.g. J012)."""
    __tablename__ = "archive_fonds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), unique=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    department: Mapped[Department] = relationship()
    units: Mapped[list[FondsUnit]] = relationship(order_by="FondsUnit.position", cascade="all, delete-orphan",
                                                    back_populates="fonds")


class FondsUnit(Base):
    """机构(问题)代码 of a fonds, e.g. BGS 办公室; optionally the department (股室) it stands for."""
    __tablename__ = "archive_fonds_units"
    __table_args__ = (UniqueConstraint("fonds_id", "code", name="uq_archive_fonds_units_fonds_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fonds_id: Mapped[int] = mapped_column(ForeignKey("archive_fonds.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    fonds: Mapped[Fonds] = relationship(back_populates="units")


class ItemCounter(Base):
    """The last 件号 given in one (全宗, 年度, 保管期限, 机构); locked FOR UPDATE while a number is taken."""
    __tablename__ = "archive_item_counters"
    __table_args__ = (UniqueConstraint("fonds", "year", "retention", "unit",
                                       name="uq_archive_item_counters_fonds_year_retention_unit"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fonds: Mapped[str] = mapped_column(String(4))
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(3))
    unit: Mapped[str] = mapped_column(String(10))
    last: Mapped[int] = mapped_column(Integer, default=0)


class ArchiveItem(Base):
    """件 with its DA/T 46 metadata."""
    __tablename__ = "archive_items"
    __table_args__ = (
        UniqueConstraint("fonds", "year", "retention", "unit", "item_number",
                         name="uq_archive_items_fonds_year_retention_unit_number"),
        UniqueConstraint("source_type", "source_id", name="uq_archive_items_source"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    archival_code: Mapped[str] = mapped_column(String(40), unique=True)  # 档号
    fonds_id: Mapped[int] = mapped_column(ForeignKey("archive_fonds.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # holding organisation
    fonds: Mapped[str] = mapped_column(String(4))  # 全宗号
    category: Mapped[str] = mapped_column(String(2), default=CATEGORY)  # 门类
    year: Mapped[int] = mapped_column(Integer)  # 年度
    retention: Mapped[str] = mapped_column(String(3))  # 保管期限
    unit: Mapped[str] = mapped_column(String(10))  # 机构(问题)代码
    item_number: Mapped[int] = mapped_column(Integer)  # 件号
    title: Mapped[str] = mapped_column(String(300))  # 题名 (a supplied title is stored in [ ])
    doc_number: Mapped[str] = mapped_column(String(80), default="")  # 文件编号 (发文字号)
    responsible: Mapped[str] = mapped_column(String(200), default="")  # 责任者
    doc_date: Mapped[date | None] = mapped_column(Date)  # 日期
    doc_type: Mapped[str] = mapped_column(String(20), default="")  # 文种
    secrecy: Mapped[str] = mapped_column(String(10), default="非密")  # 密级
    pages: Mapped[int] = mapped_column(Integer, default=0)  # 页数
    remarks: Mapped[str] = mapped_column(String(300), default="")  # 备注
    source_type: Mapped[str] = mapped_column(String(20))  # document | letter | import
    source_id: Mapped[str] = mapped_column(String(120))  # the source's id (an import: its row key)
    part_count: Mapped[int] = mapped_column(Integer, default=0)  # parts recorded at filing
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    retention_until: Mapped[date | None] = mapped_column(Date, index=True)  # None: permanent (Y)
    retention_applied_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    retention_note: Mapped[str] = mapped_column(String(200), default="")
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_check_passed: Mapped[bool | None] = mapped_column(Boolean)
    # the 归档章 copy is derived after filing (bulk import): the worker makes it and clears the flag
    stamp_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # the uploaded import that filed the item (its page follows the text recognition of its files)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("archive_import_runs.id"), index=True)

    department: Mapped[Department] = relationship()
    filer: Mapped[User] = relationship()
    parts: Mapped[list[ItemPart]] = relationship(order_by="ItemPart.position", cascade="all, delete-orphan",
                                                   back_populates="item")

    @property
    def retention_label(self) -> str:
        return RETENTIONS.get(self.retention, self.retention)


class ItemPart(Base):
    """One document version held by an item; a document belongs to at most one item (the service checks;
    an issued letter's DOCX and signed PDF are two versions of one document)."""
    __tablename__ = "archive_item_parts"
    __table_args__ = (UniqueConstraint("document_id", "version", name="uq_archive_item_parts_document_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))  # main | docx | sheet | draft | attachment | stamped
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))  # metadata recorded at filing
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str] = mapped_column(String(64))

    item: Mapped[ArchiveItem] = relationship(back_populates="parts")
    document: Mapped[Document] = relationship()

    @property
    def role_label(self) -> str:
        return PART_ROLES.get(self.role, self.role)


class CheckReport(Base):
    """One run of the four-property checks on an item (at filing, on demand, by the worker)."""
    __tablename__ = "archive_check_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    trigger: Mapped[str] = mapped_column(String(10))  # filing | demand | worker | import
    passed: Mapped[bool] = mapped_column(Boolean)
    results: Mapped[str] = mapped_column(Text)  # JSON list of {property, name, result, why}
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DisposalReview(Base):
    """鉴定: an archivist's keep/destroy proposal for an item past its retention, signed off by a leader."""
    __tablename__ = "archive_disposal_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id"), index=True)
    proposal: Mapped[str] = mapped_column(String(10))  # keep | destroy
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    released_at: Mapped[datetime | None] = mapped_column(DateTime)  # blobs may be released (never automatic)

    item: Mapped[ArchiveItem] = relationship()
    proposer: Mapped[User] = relationship()


class ImportRun(Base):
    """One bulk import (CLI or ZIP upload): progress and the per-row error report."""
    __tablename__ = "archive_import_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)  # digest of catalogue + department
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    started_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {row, column, reason}
    # queued (an upload waits for the worker) | running | done | refused | failed
    status: Mapped[str] = mapped_column(String(10), default="running")
    message: Mapped[str] = mapped_column(Text, default="")
    # an upload is imported by a worker: it holds the run until ``lease_until`` and renews it after each
    # chunk; a run still "running" past its lease (the worker died or restarted) is taken up again
    folder: Mapped[str] = mapped_column(String(300), default="", server_default="")  # under the instance
    worker: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
