"""The one way a view accepts a file: a streaming multipart body with a size limit.

A view that takes a file is marked ``@streaming_upload()`` (or ``@streaming_upload(verify=True)`` for
signature verification, which has its own, smaller limit) right under its route decorator. For those
views, before anything reads the body:

- the request's ``max_content_length`` is set to the view's limit plus room for the other form fields,
  so werkzeug stops an undeclared (chunked) body at the limit, and a larger declared ``Content-Length``
  is answered 413 at once;
- the app's CSRF guard leaves the body alone (reading ``request.form`` would make werkzeug spool the
  whole file); ``open_upload`` checks the token from the ``X-CSRF-Token`` header or the ``csrf_token``
  field that precedes the file.

``open_upload`` hands back the fields sent before the file and the file part as a pull stream
(``MultipartStream``); the document core then streams it through the digests into the object store.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, TypeVar, cast

from flask import Flask, g, request
from pydantic import BaseModel

from ..errors import TooLarge, Unprocessable
from .apispec import validate_form
from .context import check_csrf, current_user, runtime
from .multipart import MultipartStream
from .upload_marks import is_streaming_upload, streaming_upload, upload_kind

M = TypeVar("M", bound=BaseModel)

__all__ = ["FORM_OVERHEAD", "Upload", "file_limit", "init_app", "is_streaming_upload", "open_upload",
           "streaming_upload", "too_large", "upload_kind"]

#: room for the multipart framing and the text fields around the file
FORM_OVERHEAD = 1024 * 1024


def file_limit() -> int:
    """The largest file this request's view accepts, in bytes."""
    settings = runtime().settings
    return settings.max_verify_bytes if upload_kind() == "verify" else settings.max_upload_bytes


def too_large() -> TooLarge:
    return TooLarge(f"文件超过大小限制（{file_limit() / (1024 * 1024):g} MB）")


@dataclass
class Upload:
    form: MultipartStream
    part: BinaryIO  # a FilePart: read()-able, as the stores need
    filename: str

    @property
    def fields(self) -> dict[str, str]:
        """The text fields sent before the file."""
        return self.form.fields

    def fields_as(self, model: type[M], fields: dict[str, str] | None = None) -> M:
        """The form fields (those sent so far, or ``fields``) as ``model``; 422 naming the first bad one."""
        source = self.form.fields if fields is None else fields
        return validate_form(model, {k: v for k, v in source.items() if k in model.model_fields and v != ""})

    def finish(self, allowed_after: frozenset[str] = frozenset()) -> dict[str, str]:
        """Read the rest of the body; a field other than ``allowed_after`` after the file is refused."""
        before = set(self.form.fields)
        fields = self.form.finish()
        late = set(fields) - before - set(allowed_after) - {"csrf_token"}
        if late:
            names = "、".join(sorted(late))
            raise Unprocessable(f"表单字段 {names} 须放在文件字段 file 之前")
        return fields


def open_upload(require_csrf: bool | None = None, missing: str = "缺少文件字段 file") -> Upload:
    """Start reading this request's multipart body: fields up to the ``file`` part, CSRF checked."""
    if not is_streaming_upload():
        raise RuntimeError(f"{request.endpoint} is not marked @streaming_upload()")
    if not request.content_type and not request.content_length:  # no body at all: the file is missing
        raise Unprocessable(missing)
    form = MultipartStream(request.stream, request.headers.get("Content-Type"))
    part = form.next_file("file")
    if require_csrf is None:
        require_csrf = current_user() is not None and not g.get("via_token")
    if require_csrf:
        check_csrf(request.headers.get("X-CSRF-Token") or form.fields.get("csrf_token"))
    if part is None:
        raise Unprocessable(missing)
    if not form.filename:
        raise Unprocessable("请选择要上传的文件")
    return Upload(form, cast(BinaryIO, part), form.filename)


def init_app(app: Flask) -> None:
    # The ceiling for any body; views that are not uploads get a smaller one from the request limits.
    app.config["MAX_CONTENT_LENGTH"] = runtime_settings(app).max_upload_bytes + FORM_OVERHEAD

    @app.before_request
    def _upload_limit():
        if request.method != "POST" or not is_streaming_upload():
            return
        limit = file_limit() + FORM_OVERHEAD
        request.max_content_length = limit  # werkzeug's stream stops an undeclared body here
        if request.content_length is not None and request.content_length > limit:
            raise too_large()


def runtime_settings(app: Flask):
    return app.extensions["archive"].settings
