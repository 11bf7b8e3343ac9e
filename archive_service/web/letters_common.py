"""Shared by the letters/inbox pages and API: building the services and reading letter input."""
from __future__ import annotations

from ..errors import NotFound
from ..models import Department, DocumentVersion, User
from .context import runtime
from .services import services


def letters():
    return services().letters


def issuing():
    return services().issuing


def inbox():
    return services().inbox


def departments(user: User | None = None) -> list[Department]:
    """Departments a letter may be addressed to (not the user's own organisation), regulators first."""
    return services().roster.addressable_departments(user)


def department_users(dept_id: int) -> list[User]:
    return services().roster.active_users(dept_id)


def fields_from_form(form) -> dict:
    """The letter fields of an HTML form (multi-selects for departments, one paragraph per line), checked
    by the API's model (422 naming the field)."""
    from .apispec import validate
    from .letters_schemas import LetterFields

    fields = {
        "template": form.get("template", ""), "title": form.get("title", ""),
        "to": form.getlist("to"), "cc": form.getlist("cc"),
        "co_issuers": form.getlist("co_issuers") if "co_issuers" in form else None,
        "body": form.get("body", "").splitlines(), "note": form.get("note", ""),
        "urgency": form.get("urgency", ""), "upward": form.get("upward") == "1",
        "disclosure": form.get("disclosure", "") if "disclosure" in form else None,
        "classification": form.get("classification") or "非密",
    }
    validate(LetterFields, {k: v for k, v in fields.items() if v is not None})
    return fields


def final_version(user: User, letter, what: str) -> DocumentVersion:
    """The issued DOCX (v1), signed PDF (v2) or the processing sheet, through the core permission check."""
    service = services().documents
    if what in {"docx", "pdf"}:
        if letter.final_document_id is None:
            raise NotFound("公文尚未印发")
        return service.version(user, letter.final_document_id, 1 if what == "docx" else 2)
    if what == "sheet":
        if letter.sheet_document_id is None:
            raise NotFound("公文处理单尚未生成")
        return service.version(user, letter.sheet_document_id, None)
    raise NotFound("没有此文件")


def verification(user: User, letter) -> dict:
    from correspondence.pki import key_source
    from correspondence.signing import verify_pdf

    version = final_version(user, letter, "pdf")
    data = runtime().store.open(version.blob.sha256, 0, version.blob.size - 1)
    raw = b"".join(data)
    return verify_pdf(raw, key_source(runtime().settings).trust_roots()).to_dict()


def letter_preview_pdf(user: User, letter_id: int) -> bytes:
    """The current draft rendered as PDF, for the issuing side only: the one rule behind both the
    page's 预览 (/letters/<id>/preview.pdf) and the API's /api/v1/letters/<id>/preview. A recipient
    department sees the issued files, never the draft (404, as for a letter it may not read)."""
    from correspondence.issuing import render_preview

    service = letters()
    letter = service.get(user, letter_id)
    if not service.is_internal(user, letter):
        raise NotFound("公文不存在或无权查看")
    return render_preview(service, letter)
