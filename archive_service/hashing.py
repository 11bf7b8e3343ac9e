"""Streaming digests (SHA-256 and SM3) with a size limit, in one pass."""
from __future__ import annotations

import hashlib
from typing import Protocol

from .errors import TooLarge

HEAD_BYTES = 8192


def sm3() -> hashlib._Hash:
    return hashlib.new("sm3")


class Readable(Protocol):
    """What an upload is read from: a file, a request stream, a spooled file or another wrapper."""

    def read(self, n: int = -1, /) -> bytes: ...


class DigestingReader:
    """Wrap a binary stream: every byte read is hashed and counted; reading past ``max_bytes`` raises.

    Adapters read from this wrapper, so the upload is streamed exactly once.
    """

    def __init__(self, stream: Readable, max_bytes: int | None = None):
        self._stream = stream
        self._max = max_bytes
        self._sha256 = hashlib.sha256()
        self._sm3 = sm3()
        self.size = 0
        self.head = b""

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n if n is not None else -1)
        if data:
            self.size += len(data)
            if self._max is not None and self.size > self._max:
                raise TooLarge(f"文件超过大小限制（{self._max // (1024 * 1024)} MB）")
            if len(self.head) < HEAD_BYTES:
                self.head += data[: HEAD_BYTES - len(self.head)]
            self._sha256.update(data)
            self._sm3.update(data)
        return data

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def sm3(self) -> str:
        return self._sm3.hexdigest()


def digest_stream(chunks) -> tuple[str, str, int]:
    """(sha256, sm3, size) of an iterable of byte chunks — used by fixity checks."""
    a, b, n = hashlib.sha256(), sm3(), 0
    for chunk in chunks:
        a.update(chunk)
        b.update(chunk)
        n += len(chunk)
    return a.hexdigest(), b.hexdigest(), n
