"""Media type detected from content (libmagic), never trusted from the client."""
from __future__ import annotations

import magic

from .errors import Unprocessable

# Content that must never be stored: programs and scripts that a reader's machine might run.
REFUSED = {
    "application/x-executable", "application/x-dosexec", "application/x-sharedlib",
    "application/x-pie-executable", "application/x-mach-binary", "application/x-msdownload",
    "application/vnd.microsoft.portable-executable", "text/x-shellscript", "application/x-elf",
}


def detect(head: bytes) -> str:
    if not head:
        return "application/x-empty"
    return magic.from_buffer(head, mime=True) or "application/octet-stream"


def check_allowed(media_type: str) -> None:
    if media_type in REFUSED:
        raise Unprocessable(f"不允许上传此类型的文件（{media_type}）")
