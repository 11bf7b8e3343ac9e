"""Helpers for the handover tests: a county with fonds, filed items made here, the local blob path."""
from __future__ import annotations

import io
import os
import stat

from sqlalchemy import select

from archive_service.archive.demo import load_archive_demo
from archive_service.archive.models import ArchiveItem
from archive_service.archive.service import archive_for
from archive_service.models import User
from archive_service.storage.base import blob_key
from archive_support import make_pdf


def setup_fonds(rt) -> None:
    with rt.factory() as s:
        load_archive_demo(s, rt.clock)
        s.commit()


def file_items(rt, username: str, n: int, retention: str = "D30", prefix: str = "建设工程规划许可") -> list[int]:
    """``n`` uploaded PDFs of ``username``'s department filed as items (件号 in order); their ids."""
    ids = []
    with rt.factory() as s:
        user = s.scalar(select(User).where(User.username == username))
        docs = rt.documents(s)
        svc = archive_for(rt, s)
        for i in range(n):
            title = f"{prefix}第{i + 1}号"
            doc = docs.upload(user, io.BytesIO(make_pdf(f"permit {prefix} {i + 1}")), f"permit-{i + 1}.pdf", title)
            # the 归档章 copy is left to the worker, as the bulk import does: handovers move the filed
            # originals, and rendering 300 stamped copies would be most of a 300-item test's time
            item = svc.file(user, svc.bundle(user, document_id=doc.id), retention, defer_stamp=True)
            ids.append(item.id)
            if i % 50 == 49:
                s.commit()
        s.commit()
    return ids


def blob_path(rt, sha256: str):
    return rt.store.root / blob_key(sha256)


def flip_byte(path, offset: int | None = None) -> bytes:
    """Flip one byte of a stored file (read-only after retention); returns the original bytes."""
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    data = path.read_bytes()
    at = len(data) // 2 if offset is None else offset
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    return data


def restore(path, data: bytes) -> None:
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(data)


def item(s, item_id: int) -> ArchiveItem:
    return s.get(ArchiveItem, item_id)
