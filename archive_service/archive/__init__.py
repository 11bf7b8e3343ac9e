"""The archive feature (档案): items (件) with 档号, 归档章, 四性检测, 归档文件目录, retention, import.

It builds on the core and never imports the features above it (correspondence registers its letters
as a source, see ``sources``). ``register()`` plugs it into the core when an entry point is built.
"""
from __future__ import annotations


def register() -> None:
    from ..documents import register_write_guard
    from ..indexing import register_record_extender
    from . import search_fields
    from .service import document_freeze_reason

    register_write_guard(document_freeze_reason)
    for kind in search_fields.KINDS:
        register_record_extender(kind, search_fields.extend)
