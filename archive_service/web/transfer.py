"""Upload and download over HTTP, shared by the UI and the API."""
from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, request

from ..models import Document, DocumentVersion, User
from .context import runtime
from .schemas import DocumentFields
from .services import services
from .uploads import open_upload

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def receive_upload(user: User, require_csrf: bool) -> Document:
    """Stream the request's ``file`` part into the store and record a new document (a title may
    also follow the file: then it is checked after the bytes are stored)."""
    upload = open_upload(require_csrf)
    service = services().documents
    early = upload.fields_as(DocumentFields)  # fields sent before the file
    service.check_upload(user, upload.filename, early.title)
    stored, media_type = service.store_bytes(upload.part)
    fields = upload.fields_as(DocumentFields, upload.finish(allowed_after=frozenset({"title"})))
    return service.create_from_stored(user, stored, media_type, upload.filename, fields.title)


def receive_version(user: User, doc_id: int) -> DocumentVersion:
    """Stream the request's ``file`` part in as a new version of a document the user may read; a
    frozen document (e.g. filed in the archive) is refused with 409 before anything is stored."""
    service = services().documents
    doc = service.get(user, doc_id)
    service.ensure_writable(doc)
    upload = open_upload()
    service.policy.check_name(upload.filename)
    stored, media_type = service.store_bytes(upload.part)
    upload.finish()
    return service.add_stored_version(user, doc, stored, media_type, upload.filename)


def ascii_fallback(filename: str, doc_id: int | None = None) -> str:
    """An ASCII name for clients that ignore ``filename*`` (curl -OJ, old browsers).

    Keeps the ASCII letters and digits of the name, adds the document id (so two Chinese-named
    files never collide as ``______.pdf``) and keeps an ASCII extension: ``审批档案-测试.pdf`` of
    document 7 → ``document-7.pdf``, ``GB 9704 样例.docx`` → ``GB-9704-7.docx``."""
    stem, dot, ext = filename.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):
        stem, ext = filename, ""
    words = re.findall(r"[A-Za-z0-9]+(?:[._][A-Za-z0-9]+)*", stem)
    base = "-".join(words)[:80].strip("-.")
    tag = str(doc_id) if doc_id is not None else ""
    name = f"{base}-{tag}" if base and tag else base or (f"document-{tag}" if tag else "download")
    return name + (f".{ext.lower()}" if ext else "")


def content_disposition(filename: str, inline: bool = False, doc_id: int | None = None) -> str:
    """RFC 6266 / RFC 5987: an ASCII fallback plus ``filename*=UTF-8''…`` with the real (Chinese) name."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_fallback(filename, doc_id)}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_response(user: User, doc_id: int, number: int | None) -> Response:
    """A version's bytes (``number``, default current) for a reader; whole downloads are audited."""
    from ..errors import Forbidden

    service = services().documents
    doc = service.find(doc_id)
    if doc is not None:  # a guard only closes documents the user holds a grant row for (no leak)
        try:
            service.ensure_downloadable(user, doc)
        except Forbidden as exc:  # the refused download is kept although the request fails
            services().record_apart(user, "document.download_refused", "document", doc_id,
                                    {"reason": exc.message})
            raise
    return send_audited(user, service.version(user, doc_id, number))


def send_audited(user: User, version: DocumentVersion) -> Response:
    """Send a version the user may read; a whole download (not a Range part) is audited."""
    resp = send_version(version)  # opens the stored object first: no write waits on a slow store
    if resp.status_code == 200 and not request.headers.get("Range"):
        services().documents.record_download(user, version)  # committed before the body streams
    return resp


def send_version(version: DocumentVersion) -> Response:
    blob = version.blob
    size, start, end, status = blob.size, 0, blob.size - 1, 200
    header = request.headers.get("Range")
    if header and size > 0:
        m = _RANGE.match(header.strip())
        if not m or (not m.group(1) and not m.group(2)):
            return _unsatisfiable(size)
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:  # suffix range: the last N bytes
            start = max(0, size - int(m.group(2)))
        if start > end or start >= size:
            return _unsatisfiable(size)
        status = 206
    store = runtime().store
    body = store.open(blob.sha256, start, end) if size else iter([b""])
    resp = Response(body, status=status, mimetype=blob.media_type, direct_passthrough=True)
    resp.headers["Content-Length"] = str(end - start + 1 if size else 0)
    resp.headers["Accept-Ranges"] = "bytes"
    resp.headers["Content-Disposition"] = content_disposition(version.filename, doc_id=version.document_id)
    resp.headers["ETag"] = f'"{blob.sha256}"'
    resp.headers["Digest"] = f"sha-256={_b64(blob.sha256)}"
    resp.headers["X-Content-SM3"] = blob.sm3
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if status == 206:
        resp.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return resp


def _unsatisfiable(size: int) -> Response:
    resp = Response(status=416)
    resp.headers["Content-Range"] = f"bytes */{size}"
    return resp


def _b64(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
