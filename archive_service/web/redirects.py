"""Where a redirect may go after login or a form: only a path on this site.

Browsers and werkzeug drop control characters (``/\\t/evil.example`` becomes ``//evil.example``) and
read ``\\`` as ``/``, so the target is cleaned first, then parsed, and the redirect is rebuilt from
the parsed path and query alone.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit, urlunsplit


def same_site_path(target: str | None) -> str | None:
    """``target`` as a same-site path (``/a/b?x=1``), or None when it is not one."""
    if not target:
        return None
    cleaned = "".join(ch for ch in target if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"})
    cleaned = cleaned.strip().replace("\\", "/")
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return None
    return urlunsplit(("", "", path, parts.query, ""))
