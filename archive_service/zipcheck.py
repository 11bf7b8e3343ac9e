"""One safety check for uploaded ZIP files (archive imports, BagIt packages), before anything is extracted."""
from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

MAX_MEMBERS = 10_000
MAX_RATIO = 100


def zip_refusal(path: Path, max_member: int | None = None) -> str | None:
    """None when the ZIP is safe to extract; otherwise why the whole archive is refused."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        return "不是有效的 ZIP 文件"
    if len(infos) > MAX_MEMBERS:
        return f"ZIP 内文件超过 {MAX_MEMBERS} 个"
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            return f"ZIP 内含绝对路径：{name}"
        if ".." in re.split(r"[\\/]", name):
            return f"ZIP 内含上级目录路径（..）：{name}"
        if stat.S_ISLNK(info.external_attr >> 16):
            return f"ZIP 内含符号链接：{name}"
        if max_member is not None and info.file_size > max_member:
            return f"ZIP 内文件 {name} 超过大小限制（{max_member // (1024 * 1024)} MB）"
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            return f"ZIP 内文件 {name} 的压缩比超过 {MAX_RATIO}"
        total += info.file_size
    if total / max(path.stat().st_size, 1) > MAX_RATIO:
        return f"ZIP 的解压比超过 {MAX_RATIO}"
    return None
