"""One error handler: domain errors → JSON under /api, a Chinese page elsewhere.

This is the only place that turns a domain error's kind into an HTTP status.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import DomainError, ErrorKind

log = logging.getLogger(__name__)

STATUS = {
    ErrorKind.BAD_REQUEST: 400, ErrorKind.UNAUTHENTICATED: 401, ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409, ErrorKind.TOO_LARGE: 413, ErrorKind.INVALID: 422,
    ErrorKind.RATE_LIMITED: 429, ErrorKind.INTEGRITY: 500, ErrorKind.UNAVAILABLE: 503,
}

HTTP_MESSAGES = {
    400: "请求格式错误", 401: "请先登录", 403: "无权访问", 404: "页面或对象不存在", 405: "不支持的请求方法",
    409: "操作与当前状态冲突", 413: "文件超过大小限制", 415: "不支持的内容类型", 422: "内容无法处理",
    429: "请求过于频繁", 500: "服务器内部错误", 503: "服务暂不可用",
}


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error (by its kind)."""
    return STATUS[exc.kind]


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in {"/healthz", "/readyz"}


def error_response(status: int, code: str, message: str, details: dict | None = None):
    if wants_json():
        error: dict[str, Any] = {"code": code, "message": message}
        if details:
            error["details"] = details
        return jsonify({"error": error}), status
    return render_template("ui/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    # The request's unit of work (context.py) rolls back whenever the response is an error, so the
    # handlers below only shape the response.
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return error_response(status_of(exc), exc.code, exc.message, exc.details or None)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(status, code, HTTP_MESSAGES.get(status, exc.description or "请求错误"))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", HTTP_MESSAGES[500])
