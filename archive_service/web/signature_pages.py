"""验证签名: verify the PAdES signatures of an uploaded PDF or of a stored document's version.

API: ``POST /api/v1/verify-pdf`` (multipart ``file``) and ``GET /api/v1/documents/<id>/signature``.
UI: ``/signatures/verify`` (upload form) and ``/signatures/documents/<id>`` (a stored document).
Letter pages include ``templates/ui/signatures/_report.html`` with ``report`` = ``VerificationReport.to_dict()``.
"""
from __future__ import annotations

import tempfile

from flask import Blueprint, jsonify, render_template, request

from correspondence.pki import key_source
from correspondence.signing import verify_pdf

from ..errors import DomainError, Unprocessable
from .api import api_login_required
from .apispec import operation, parse_query
from .context import runtime, signed_in_user
from .errors import status_of
from .pages import login_required
from .schemas import PdfUpload, SignatureReport, VersionQuery
from .services import services
from .upload_marks import streaming_upload
from .uploads import open_upload, too_large

bp = Blueprint("signatures", __name__)

SPOOL_IN_MEMORY = 16 * 1024 * 1024  # larger PDFs are read back from a temporary file
CHUNK = 1024 * 1024


def _trust_roots():
    return key_source(runtime().settings).trust_roots()


def _report_upload() -> tuple[dict, str]:
    """Verify the uploaded PDF: streamed (ARCHIVE_MAX_VERIFY_MB at most) into a temporary spool,
    because the PDF parser needs to seek; nothing is stored."""
    upload = open_upload(missing="请选择要验证的 PDF 文件（字段 file）")
    limit = runtime().settings.max_verify_bytes
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        size = 0
        while chunk := upload.part.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large()
            spool.write(chunk)
        upload.finish()
        spool.seek(0)
        report = verify_pdf(spool, _trust_roots()).to_dict()
    return report, upload.filename


def _report_stored(doc_id: int) -> tuple[dict, object]:
    number = parse_query(VersionQuery).version
    version = services().documents.version(signed_in_user(), doc_id, number)  # 404 unless readable
    if version.blob.media_type != "application/pdf":
        raise Unprocessable("该版本不是 PDF 文件，没有可验证的电子签名")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        chunks = runtime().store.open(version.blob.sha256)
        try:
            for chunk in chunks:
                spool.write(chunk)
        finally:
            getattr(chunks, "close", lambda: None)()
        report = verify_pdf(spool, _trust_roots()).to_dict()
    report.update(document_id=doc_id, version=version.number, filename=version.filename,
                  sha256=version.blob.sha256)
    return report, version


# -- API ------------------------------------------------------------------------------------------
@bp.post("/api/v1/verify-pdf")
@streaming_upload(verify=True)
@api_login_required
@operation("验证上传的 PDF 的电子签名（签名人、时间、完整性、信任）", form=PdfUpload, responses={200: SignatureReport})
def api_verify_upload():
    report, filename = _report_upload()
    report["filename"] = filename
    return jsonify(report)


@bp.get("/api/v1/documents/<int:doc_id>/signature")
@api_login_required
@operation("验证已存文档某一版本的电子签名（非 PDF 为 422）", query=VersionQuery, responses={200: SignatureReport},
           errors=(422,))
def api_document_signature(doc_id: int, query: VersionQuery):
    report, _version = _report_stored(doc_id)
    return jsonify(report)


# -- UI -------------------------------------------------------------------------------------------
@bp.route("/signatures/verify", methods=["GET", "POST"])
@streaming_upload(verify=True)
@login_required
def verify_page():
    report, filename, error, status = None, None, None, 200
    if request.method == "POST":
        try:
            report, filename = _report_upload()
        except DomainError as exc:
            error, status = exc.message, status_of(exc)
    return render_template("ui/signatures/verify.html", report=report, filename=filename, error=error), status


@bp.get("/signatures/documents/<int:doc_id>")
@login_required
def document_page(doc_id: int):
    doc = services().documents.get(signed_in_user(), doc_id)
    try:
        report, version = _report_stored(doc_id)
    except Unprocessable as exc:
        return render_template("ui/signatures/document.html", doc=doc, report=None, error=exc.message), 422
    return render_template("ui/signatures/document.html", doc=doc, report=report, version=version, error=None)
