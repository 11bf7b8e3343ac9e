"""Request limits applied before any body is read: size, JSON nesting, characters the database refuses.

- Every request except the streaming uploads (views marked ``@streaming_upload()``) may carry at most
  ``settings.max_body_bytes`` (ARCHIVE_MAX_BODY_KB): a larger declared ``Content-Length`` is answered
  413 before the body is read, and an undeclared (chunked) body stops with 413 as soon as it passes it.
- JSON is parsed only here (:func:`read_json`): nesting deeper than :data:`MAX_JSON_DEPTH` is answered
  400 before ``json.loads`` runs, and strings with control characters or lone surrogates (which PostgreSQL,
  XML and UTF-8 refuse) are answered 400 naming the field. Query strings and form fields get the same character check.
"""
from __future__ import annotations

import json
import re
import typing
from typing import Any

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from ..errors import BadRequest, TooLarge
from .upload_marks import is_streaming_upload

#: Deepest accepted JSON nesting (objects and arrays); request bodies of this API need 4.
MAX_JSON_DEPTH = 32
#: Largest accepted id in a URL or body: ids are 32-bit integers on every database.
MAX_ID = 2**31 - 1

#: NUL (PostgreSQL refuses it), other C0 controls but tab/CR/LF and U+FFFE/U+FFFF (not allowed in XML, so
#: DOCX/PDF markup and exports would fail later), and lone surrogates (not encodable as UTF-8).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")

BODY_NOT_OBJECT = "请求体须为 JSON 对象"


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that matches only ids a database column can hold (1 … 2**31-1); others are 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class ArchiveRequest(Request):
    """A request whose body limit depends on the endpoint: small, except for the streaming uploads."""

    @property
    def max_content_length(self) -> int | None:
        if is_streaming_upload(self.endpoint or ""):  # the upload path sets its own limit (uploads.py)
            return super().max_content_length
        return current_app.extensions["archive"].settings.max_body_bytes

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        Request.max_content_length.fset(self, value)  # type: ignore[attr-defined]


def body_limit_message() -> str:
    kb = current_app.extensions["archive"].settings.max_body_bytes // 1024
    return f"请求体过大（上传文件以外的请求不超过 {kb} KB）"


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``raw`` (JSON text) nests objects/arrays deeper than ``limit`` (strings ignored)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for m in _BRACKETS.finditer(_STRING.sub(b'""', raw)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def bad_character_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding NUL or a lone surrogate, else None."""
    if isinstance(value, str):
        return path or "body" if _BAD_CHARS.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}.{k}" if path else str(k)
            if _BAD_CHARS.search(k):
                return where
            found = bad_character_path(v, where)
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = bad_character_path(v, f"{path}.{i}" if path else str(i))
            if found:
                return found
    return None


def has_bad_characters(text: str) -> bool:
    """True when ``text`` holds a character no field may (control characters, lone surrogates)."""
    return _BAD_CHARS.search(text) is not None


def _refuse_characters(field: str) -> typing.NoReturn:
    raise BadRequest(f"{field}：含有不允许的字符（控制字符或不成对的代理项）", field=field)


def read_json(require_object: bool = True) -> Any:
    """The request's JSON body, within the size and nesting limits; 400 for anything else."""
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise TooLarge(body_limit_message()) from None
    if json_depth_exceeds(raw):
        raise BadRequest(f"JSON 嵌套过深（不超过 {MAX_JSON_DEPTH} 层）")
    try:
        data = json.loads(raw.decode("utf-8", errors="surrogatepass")) if raw.strip() else None
    except (ValueError, RecursionError):
        raise BadRequest(BODY_NOT_OBJECT + "（无法解析 JSON）") from None
    if require_object and not isinstance(data, dict):
        raise BadRequest(BODY_NOT_OBJECT)
    where = bad_character_path(data)
    if where:
        _refuse_characters(where)
    return data


def init_app(app: Flask) -> None:
    """Install the request class and the guard; call before any other before_request hook."""
    app.request_class = ArchiveRequest

    @app.before_request
    def _limits():
        upload = is_streaming_upload(request.endpoint or "")
        if not upload:
            declared, limit = request.content_length, request.max_content_length
            if declared is not None and limit is not None and declared > limit:
                raise TooLarge(body_limit_message())
        for key, values in request.args.lists():
            if _BAD_CHARS.search(key) or any(_BAD_CHARS.search(v) for v in values):
                _refuse_characters(key)
        if not upload and request.mimetype in {
                "application/x-www-form-urlencoded", "multipart/form-data"}:
            for key, values in request.form.lists():
                if _BAD_CHARS.search(key) or any(_BAD_CHARS.search(v) for v in values):
                    _refuse_characters(key)
