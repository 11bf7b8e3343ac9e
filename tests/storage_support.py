"""Small builders for the storage and upload tests: a department, a user with a bearer token, multipart bodies."""
from __future__ import annotations

import uuid

from archive_service.auth import Authenticator
from archive_service.directory import Directory
from factories import cheap_password_hash


def make_uploader(rt, username: str | None = None, roles=("drafter",)) -> tuple[int, str]:
    """A fresh department and a user in it; returns (user id, bearer token)."""
    tag = uuid.uuid4().hex[:8]
    with rt.factory() as s:
        directory = Directory(s, rt.clock)
        dept = directory.add_department(f"测试单位{tag}", f"T{tag}".upper(), "other")
        user = directory.add_user(username or f"u{tag}", "测试用户", dept, list(roles),
                                  password_hash=cheap_password_hash("a-long-password"))
        token, _row = Authenticator(s, rt.clock).issue_token(user)
        s.commit()
        return user.id, token


def multipart(parts: list[tuple[str, str | bytes, str | None]], boundary: str | None = None) -> tuple[bytes, str]:
    """(body, content type) with the parts in the given order: (name, value, filename or None)."""
    boundary = boundary or uuid.uuid4().hex
    out = bytearray()
    for name, value, filename in parts:
        out += f"--{boundary}\r\n".encode()
        if filename is None:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        else:
            out += (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n").encode()
        out += value.encode() if isinstance(value, str) else value
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
