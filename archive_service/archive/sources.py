"""What can be filed: sources of archive items.

The archive sits below the features that produce records (letters and minutes in ``correspondence``),
so it does not import them. A feature registers a ``SourceProvider`` when the app or a command is
built (``register_source``); the archive asks the providers for candidates and for the parts of a
source. Uploaded core documents are the built-in source ``document``.

A feature may also register a signature verifier factory (``register_signature_verifier``): the
four-property checks use it to validate signed PDFs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import Document
from .models import ItemPart


@dataclass
class SourcePart:
    document: Document
    version: int
    role: str  # main | docx | sheet | draft | attachment


@dataclass
class SourceBundle:
    """One future 件: its metadata and the document versions it holds."""
    source_type: str
    source_id: str
    department_id: int  # the department that made it (its organisation holds the item)
    title: str
    doc_number: str = ""
    responsible: str = ""
    doc_date: date | None = None
    doc_type: str = ""
    kind_label: str = "文件"
    parts: list[SourcePart] = field(default_factory=list)
    required_roles: tuple[str, ...] = ("main",)
    created_at: datetime | None = None

    @property
    def year(self) -> int:
        day = self.doc_date or (self.created_at.date() if self.created_at else None)
        return day.year if day else datetime.now().year


class SourceProvider(Protocol):
    source_type: str
    label: str
    #: document kinds whose documents belong to this provider's sources (not filed on their own)
    document_kinds: frozenset[str]

    def get(self, session: Session, source_id: int) -> SourceBundle | None:
        """The bundle for a source id, or None."""

    def for_document(self, session: Session, document: Document) -> SourceBundle | None:
        """The bundle a document of one of ``document_kinds`` belongs to, or None."""

    def candidates(self, session: Session, department_ids: list[int], year: int | None,
                   limit: int) -> list[SourceBundle]:
        """Sources of these departments (an organisation and its sections) that are not yet filed."""


SignatureVerifier = Callable[[bytes], "tuple[bool | None, str]"]
_PROVIDERS: dict[str, SourceProvider] = {}
_VERIFIER_FACTORIES: list[Callable[[object], SignatureVerifier]] = []


def register_source(provider: SourceProvider) -> None:
    _PROVIDERS[provider.source_type] = provider


def providers() -> list[SourceProvider]:
    return [DOCUMENTS, *(p for k, p in _PROVIDERS.items() if k != DOCUMENTS.source_type)]


def provider(source_type: str) -> SourceProvider | None:
    return DOCUMENTS if source_type == DOCUMENTS.source_type else _PROVIDERS.get(source_type)


def register_signature_verifier(factory: Callable[[object], SignatureVerifier]) -> None:
    """``factory(settings) -> verify(pdf_bytes) -> (ok or None when unsigned, why)``."""
    if factory not in _VERIFIER_FACTORIES:
        _VERIFIER_FACTORIES.append(factory)


def signature_verifier(settings) -> SignatureVerifier | None:
    return _VERIFIER_FACTORIES[-1](settings) if _VERIFIER_FACTORIES else None


def claimed_kinds() -> set[str]:
    kinds: set[str] = {"archive_copy"}
    for p in _PROVIDERS.values():
        kinds |= set(p.document_kinds)
    return kinds


def not_filed(document_id_column):
    return ~exists().where(ItemPart.document_id == document_id_column)


class DocumentSource:
    """An uploaded core document files as itself (its current version)."""
    source_type = "document"
    label = "文件"
    document_kinds: frozenset[str] = frozenset()

    def bundle(self, doc: Document) -> SourceBundle:
        return SourceBundle(
            source_type=self.source_type, source_id=str(doc.id), department_id=doc.department_id,
            title=doc.title, responsible=doc.department.official_name, doc_date=doc.created_at.date(),
            doc_type="文件", kind_label="文件", created_at=doc.created_at,
            parts=[SourcePart(doc, doc.current_version, "main")])

    def get(self, session: Session, source_id: int) -> SourceBundle | None:
        doc = session.get(Document, source_id)
        return self.bundle(doc) if doc is not None else None

    def for_document(self, session: Session, document: Document) -> SourceBundle | None:
        return self.bundle(document)

    def candidates(self, session: Session, department_ids: list[int], year: int | None,
                   limit: int) -> list[SourceBundle]:
        # one ordered range of ix_documents_department_created per department, merged: an IN over the
        # departments made both databases read and sort every document of the organisation
        rows: list[Document] = []
        for department_id in department_ids:
            q = (select(Document).where(Document.department_id == department_id,
                                        Document.kind.not_in(claimed_kinds()), not_filed(Document.id))
                 .order_by(Document.created_at, Document.id).limit(limit))
            if year is not None:
                q = q.where(Document.created_at >= datetime(year, 1, 1),
                            Document.created_at < datetime(year + 1, 1, 1))
            rows += session.scalars(q)
        rows.sort(key=lambda d: (d.created_at, d.id))
        return [self.bundle(doc) for doc in rows[:limit]]


DOCUMENTS = DocumentSource()


def bundle_for_document(session: Session, document: Document) -> SourceBundle:
    """The source a document files with: its letter (or other feature source), else itself."""
    for p in _PROVIDERS.values():
        if document.kind in p.document_kinds:
            b = p.for_document(session, document)
            if b is not None:
                return b
    return DOCUMENTS.bundle(document)
