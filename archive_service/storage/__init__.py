"""Object stores: pick an adapter from a URL.

- ``file:///abs/path`` → ``LocalStore``
- ``s3://ACCESS:SECRET@host:port/bucket?secure=false&region=us-east-1&object_lock=true`` → ``S3Store``
  (credentials URL-encoded; ``secure`` defaults to false, ``region`` to us-east-1, ``object_lock`` to
  false)
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from .base import ObjectStore, PutResult, StoredObject, blob_key

__all__ = ["ObjectStore", "PutResult", "StoredObject", "blob_key", "open_store"]

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_S3_OPTIONS = {"secure", "region", "object_lock"}


def open_store(url: str, connect_timeout: float = 3.0, read_timeout: float = 20.0,
               retries: int = 2) -> ObjectStore:
    """The store for ``url``; ValueError (never echoing the secret) when it is not understood.

    The timeouts (seconds) and the retry count apply to a network store (S3)."""
    parts = urlsplit(url or "")
    if parts.scheme == "file":
        return _local(parts)
    if parts.scheme == "s3":
        return _s3(parts, connect_timeout=connect_timeout, read_timeout=read_timeout, retries=retries)
    raise ValueError(
        f"unsupported storage URL scheme {parts.scheme!r}: use file:///absolute/path "
        "or s3://ACCESS:SECRET@host:port/bucket"
    )


def _local(parts):
    from .local import LocalStore

    if parts.netloc not in ("", "localhost") or parts.query:
        raise ValueError("file storage URLs look like file:///absolute/path (no host, no query)")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise ValueError("file storage URLs need an absolute path: file:///absolute/path")
    return LocalStore(Path(path))


def _s3(parts, **network):
    from .s3 import S3Store

    userinfo, at, endpoint = parts.netloc.rpartition("@")
    access, colon, secret = userinfo.partition(":")
    if not (at and access and colon and secret):
        raise ValueError("s3 storage URLs need credentials: s3://ACCESS:SECRET@host:port/bucket")
    if not endpoint:
        raise ValueError("s3 storage URL has no host: s3://ACCESS:SECRET@host:port/bucket")
    bucket = parts.path.strip("/")
    if not bucket or "/" in bucket:
        raise ValueError("s3 storage URL needs exactly one path segment, the bucket name")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - _S3_OPTIONS
    if unknown:
        raise ValueError(f"unknown s3 storage URL options: {', '.join(sorted(unknown))}")
    return S3Store(
        endpoint,
        unquote(access),
        unquote(secret),
        bucket,
        secure=_flag(options, "secure"),
        region=options.get("region") or "us-east-1",
        object_lock=_flag(options, "object_lock"),
        **network,
    )


def _flag(options: dict, name: str) -> bool:
    value = options.get(name, "false").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"s3 storage URL option {name} must be true or false, not {value!r}")
