"""Media type detected from content (libmagic), never trusted from the client, and the upload allow-list.

An upload is accepted only when its detected media type is on the allow-list (documents, images,
archive packages, audio and video; ``ARCHIVE_UPLOAD_MEDIA_TYPES``) and its file name's extension is
too (``ARCHIVE_UPLOAD_EXTENSIONS``): a ``.bat`` file is plain text to libmagic, its name gives it away.
Programs and scripts (``#!`` files, batch files, executables) are refused whatever the lists say.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import magic

from .errors import Unprocessable
from .hashing import HEAD_BYTES, Readable

# Content that must never be stored: programs and scripts that a reader's machine might run.
REFUSED = {
    "application/x-executable", "application/x-dosexec", "application/x-sharedlib",
    "application/x-pie-executable", "application/x-mach-binary", "application/x-msdownload",
    "application/vnd.microsoft.portable-executable", "text/x-shellscript", "application/x-elf",
    "text/x-msdos-batch", "application/x-msi", "application/java-archive", "application/x-java-applet",
    "text/x-script",  # any other "#!" file (see ``detect``)
}
REFUSED_PATTERNS = ("text/x-script.*",)  # libmagic's name for #! interpreters (python, ruby, node, …)

#: Default allow-list of detected media types (``*`` matches any subtype).
DEFAULT_MEDIA_TYPES = (
    # documents
    "application/pdf", "text/plain", "text/csv", "text/xml", "application/xml", "application/json",
    "text/markdown", "application/rtf", "text/rtf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.oasis.opendocument.*", "application/x-ole-storage", "application/CDFV2",
    "application/vnd.ms-office", "application/ofd",
    # images (no SVG: it can carry script)
    "image/jpeg", "image/png", "image/gif", "image/tiff", "image/bmp", "image/webp", "image/x-ms-bmp",
    # archive packages
    "application/zip", "application/x-zip-compressed",
    # audio and video
    "audio/*", "video/*",
)

#: Default allow-list of file name extensions (a name without an extension is judged by content only).
DEFAULT_EXTENSIONS = (
    "pdf", "ofd", "txt", "csv", "md", "xml", "json", "rtf", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
    "wps", "et", "dps", "odt", "ods", "odp",
    "jpg", "jpeg", "png", "gif", "tif", "tiff", "bmp", "webp",
    "zip",
    "mp3", "wav", "m4a", "aac", "ogg", "oga", "flac", "wma", "amr",
    "mp4", "m4v", "mov", "avi", "mkv", "webm", "wmv", "mpg", "mpeg", "3gp", "flv",
)


@dataclass(frozen=True)
class UploadPolicy:
    media_types: tuple[str, ...] = DEFAULT_MEDIA_TYPES
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS

    @classmethod
    def parse(cls, media_types: str | None, extensions: str | None) -> UploadPolicy:
        """From comma-separated settings; an unset setting keeps its default list."""
        types = tuple(t.strip() for t in (media_types or "").split(",") if t.strip()) or DEFAULT_MEDIA_TYPES
        exts = tuple(e.strip().lower().lstrip(".") for e in (extensions or "").split(",") if e.strip())
        return cls(types, exts or DEFAULT_EXTENSIONS)

    def check_name(self, filename: str | None) -> None:
        """Refuse a file name whose extension is not allowed (before any byte is read)."""
        name = (filename or "").rsplit("/", 1)[-1]
        if "." in name.strip("."):
            ext = name.rsplit(".", 1)[1].strip().lower()
            if ext not in self.extensions:
                raise Unprocessable(f"不允许上传此类型的文件（.{ext}）", extension=ext)

    def check_type(self, media_type: str) -> None:
        if _refused(media_type):
            raise Unprocessable(f"不允许上传此类型的文件（{media_type}）", media_type=media_type)
        if not any(fnmatch.fnmatchcase(media_type, p) for p in self.media_types):
            raise Unprocessable(f"不允许上传此类型的文件（{media_type}）", media_type=media_type)


DEFAULT_POLICY = UploadPolicy()


def detect(head: bytes) -> str:
    if not head:
        return "application/x-empty"
    found = magic.from_buffer(head, mime=True) or "application/octet-stream"
    if head.startswith(b"#!") and not _refused(found):
        return "text/x-script"  # an interpreter script libmagic does not name
    return found


def _refused(media_type: str) -> bool:
    return media_type in REFUSED or any(fnmatch.fnmatchcase(media_type, p) for p in REFUSED_PATTERNS)


def check_allowed(media_type: str, policy: UploadPolicy = DEFAULT_POLICY) -> None:
    policy.check_type(media_type)


class Screened:
    """A pull stream that refuses content as soon as its first bytes show it may not be stored.

    Once the first ``HEAD_BYTES`` (or the whole, when shorter) have been read, the media type is
    detected and checked; an empty file or a refused type raises ``Unprocessable`` from ``read``. An
    object store treats that like any failing input stream: it keeps nothing of it.
    """

    def __init__(self, stream: Readable, policy: UploadPolicy = DEFAULT_POLICY):
        self._stream = stream
        self._policy = policy
        self._head = bytearray()
        self.media_type: str | None = None

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        if self.media_type is None:
            self._head += data[: HEAD_BYTES - len(self._head)]
            if not data or len(self._head) >= HEAD_BYTES:
                if not self._head:
                    raise Unprocessable("文件为空，未保存")
                media_type = detect(bytes(self._head))
                self._policy.check_type(media_type)
                self.media_type = media_type
        return data
