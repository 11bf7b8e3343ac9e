"""Streaming multipart/form-data reader: the file part is handed to the store as a pull stream.

Werkzeug's form parser spools every file to a temporary file first; here the upload's bytes go from
the request straight through the digests into the object store, in one pass and bounded memory.
Text fields before the file (e.g. csrf_token, title) are available when the file part starts; the
rest after it has been read.
"""
from __future__ import annotations

from collections.abc import Iterator

from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

from ..errors import BadRequest
from ..hashing import Readable
from .limits import has_bad_characters

CHUNK = 1024 * 1024
MAX_FIELD = 64 * 1024


class MultipartStream:
    def __init__(self, stream: Readable, content_type: str | None):
        mimetype, options = parse_options_header(content_type or "")
        boundary = options.get("boundary")
        if mimetype != "multipart/form-data" or not boundary:
            raise BadRequest("请求须为 multipart/form-data，并包含文件字段 file")
        self._stream = stream
        self._decoder = MultipartDecoder(boundary.encode("latin-1"), max_parts=64)
        self._events = self._pull()
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self._pending: Field | File | None = None
        self._file_done = True

    def _pull(self) -> Iterator:
        eof = False
        while True:
            try:
                event = self._decoder.next_event()
            except ValueError:
                raise BadRequest("multipart 请求体格式错误") from None
            if event is NEED_DATA:
                if eof:
                    raise BadRequest("multipart 请求体不完整")
                chunk = self._stream.read(CHUNK)
                eof = not chunk
                self._decoder.receive_data(chunk or None)
                continue
            yield event
            if isinstance(event, Epilogue):
                return

    def _read_field(self, name: str) -> None:
        buf = bytearray()
        for event in self._events:
            if not isinstance(event, Data):
                raise BadRequest("multipart 请求体格式错误")
            buf += event.data
            if len(buf) > MAX_FIELD:
                raise BadRequest(f"字段 {name} 过长")
            if not event.more_data:
                break
        try:
            self.fields[name] = buf.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"字段 {name} 不是 UTF-8 文本") from None
        if has_bad_characters(name or "") or has_bad_characters(self.fields[name]):
            raise BadRequest(f"字段 {name} 含有不允许的字符（控制字符）", field=name)

    def next_file(self, name: str = "file") -> FilePart | None:
        """Read text fields until the file part called ``name``; None when the body has none."""
        for event in self._events:
            if isinstance(event, File) and event.name == name:
                if has_bad_characters(event.filename or ""):
                    raise BadRequest("文件名含有不允许的字符（控制字符）", field="filename")
                self.filename = event.filename
                return FilePart(self._events)
            if isinstance(event, Field):
                self._read_field(event.name)
            elif isinstance(event, File):
                raise BadRequest(f"不支持的文件字段：{event.name}")
        return None

    def finish(self) -> dict[str, str]:
        """Read the fields that follow the file part."""
        for event in self._events:
            if isinstance(event, Field):
                self._read_field(event.name)
            elif isinstance(event, File):
                raise BadRequest("一次只能上传一个文件")
        return self.fields


class FilePart:
    """A read()-able view of one file part's bytes."""

    def __init__(self, events: Iterator):
        self._events = events
        self._buf = b""
        self._done = False

    def read(self, n: int = -1) -> bytes:
        while not self._done and (n < 0 or len(self._buf) < n):
            event = next(self._events, None)
            if not isinstance(event, Data):
                raise BadRequest("multipart 请求体格式错误")
            self._buf += event.data
            if not event.more_data:
                self._done = True
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out
