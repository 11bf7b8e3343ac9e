"""BagIt 1.0 packages of a manifest: streamed export as a ZIP, validated import.

Export (``export_chunks``) writes the ZIP as it goes — no temp copy, memory bounded by one chunk of a
stored file — into a writer that hands each written block to the HTTP response::

    <bag>/bagit.txt, bag-info.txt (Source-Organization, Bagging-Date, Payload-Oxum, External-Identifier)
    <bag>/data/<档号>/<nn>-<file name>           the parts of each item
    <bag>/manifest-sha256.txt, manifest-sm3.txt  the digests the manifest recorded (a blob that changed in
                                                 the store makes the bag invalid, as it should)
    <bag>/metadata/items.xml                     DA/T 46 metadata per item
    <bag>/tagmanifest-sha256.txt

Import (``open_package``) refuses an unsafe ZIP (absolute paths, .., symlinks, too many or oversized
members, a decompression ratio over 100), extracts it, validates it with the ``bagit`` library plus the
SM3 manifest and checks items.xml against the payload — all before anything is created. The refusal
names the file and the check.
"""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

import bagit

from ..archive.models import ArchiveItem
from ..errors import Unprocessable
from ..storage.base import ObjectStore
from ..zipcheck import zip_refusal
from .models import Handover

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\%]")


class PackageRefused(Unprocessable):
    code = "package_refused"


def safe_name(name: str) -> str:
    name = _UNSAFE.sub("_", name).strip() or "file"
    return "_" + name if name in {".", ".."} else name


# -- export ----------------------------------------------------------------------------------------
class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink: zipfile writes into it, the generator takes the blocks out."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.blocks.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self.blocks)
        self.blocks.clear()
        return out


@dataclass
class PayloadFile:
    path: str  # relative to the bag, data/…
    sha256: str
    sm3: str
    size: int
    role: str
    format: str


@dataclass
class PackageItem:
    item: ArchiveItem
    files: list[PayloadFile] = field(default_factory=list)


def bag_name(h: Handover) -> str:
    return f"handover-{h.id}-r{h.revision}"


def plan(h: Handover, items: dict[int, ArchiveItem]) -> list[PackageItem]:
    import json

    out = []
    for line in h.current.lines:
        pi = PackageItem(items[line.item_id])
        for n, p in enumerate(json.loads(line.parts), 1):
            path = f"data/{safe_name(line.archival_code)}/{n:02d}-{safe_name(p['filename'])}"
            pi.files.append(PayloadFile(path, p["sha256"], p["sm3"], p["size"], p["role"], p["format"]))
        out.append(pi)
    return out


def items_xml(h: Handover, package: list[PackageItem]) -> bytes:
    root = ET.Element("items", {"handover": str(h.id), "revision": str(h.revision), "standard": "DA/T 46-2009"})
    for pi in package:
        it = pi.item
        el = ET.SubElement(root, "item")
        for tag, value in (("档号", it.archival_code), ("全宗号", it.fonds), ("门类", it.category), ("年度", it.year),
                           ("保管期限", it.retention), ("机构代码", it.unit), ("件号", it.item_number),
                           ("题名", it.title), ("文件编号", it.doc_number), ("责任者", it.responsible),
                           ("日期", it.doc_date.strftime("%Y%m%d") if it.doc_date else ""), ("文种", it.doc_type),
                           ("密级", it.secrecy), ("页数", it.pages), ("备注", it.remarks)):
            ET.SubElement(el, tag).text = str(value if value is not None else "")
        files = ET.SubElement(el, "文件")
        for f in pi.files:
            ET.SubElement(files, "file", {"path": f.path, "size": str(f.size), "sha256": f.sha256, "sm3": f.sm3,
                                          "role": f.role, "format": f.format})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@dataclass
class ExportSpec:
    """Everything the export needs, read from the database before the response starts streaming."""
    name: str  # the bag's folder
    handover_id: int
    title: str
    source_org: str
    files: list[PayloadFile]
    items_xml: bytes


def export_spec(h: Handover, items: dict[int, ArchiveItem]) -> ExportSpec:
    package = plan(h, items)
    return ExportSpec(bag_name(h), h.id, h.name, h.from_department.official_name,
                      [f for pi in package for f in pi.files], items_xml(h, package))


def export_chunks(spec: ExportSpec, store: ObjectStore, today: date) -> Iterator[bytes]:
    files, top = spec.files, spec.name
    pipe = _Pipe()
    tags: dict[str, bytes] = {}
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED, allowZip64=True) as z:

        def put(name: str, data: bytes, tag: bool = True) -> None:
            z.writestr(f"{top}/{name}", data)
            if tag:
                tags[name] = data

        put("bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        oxum = f"{sum(f.size for f in files)}.{len(files)}"
        info = (f"Source-Organization: {spec.source_org}\nBagging-Date: {today.isoformat()}\nPayload-Oxum: {oxum}\n"
                f"External-Identifier: {spec.handover_id}\nExternal-Description: {_one_line(spec.title)}\n"
                f"Bag-Software-Agent: archive-service handover\n")
        put("bag-info.txt", info.encode())
        yield pipe.take()
        for f in files:
            zi = zipfile.ZipInfo(f"{top}/{f.path}", date_time=(today.year, today.month, today.day, 0, 0, 0))
            zi.file_size = f.size
            zi.external_attr = (stat.S_IFREG | 0o644) << 16
            with z.open(zi, "w", force_zip64=f.size > 0x7FFFFFFF) as dst:
                chunks = store.open(f.sha256)
                try:
                    for chunk in chunks:
                        dst.write(chunk)
                        if pipe.blocks:
                            yield pipe.take()
                finally:
                    getattr(chunks, "close", lambda: None)()
            yield pipe.take()
        put("manifest-sha256.txt", "".join(f"{f.sha256}  {f.path}\n" for f in files).encode())
        put("manifest-sm3.txt", "".join(f"{f.sm3}  {f.path}\n" for f in files).encode())
        put("metadata/items.xml", spec.items_xml)
        put("tagmanifest-sha256.txt", "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                                              for name, data in tags.items()).encode(), tag=False)
    yield pipe.take()


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# -- import ----------------------------------------------------------------------------------------
@dataclass
class ImportedItem:
    metadata: dict[str, str]
    files: list[tuple[Path, PayloadFile]]


@dataclass
class Package:
    root: Path
    info: dict[str, str]
    items: list[ImportedItem]


def _extract(path: Path, into: Path, max_member: int) -> None:
    into.mkdir(parents=True, exist_ok=True)
    base = into.resolve()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            target = (into / info.filename).resolve()
            if not target.is_relative_to(base):
                raise PackageRefused(f"数据包被拒绝：路径越界 {info.filename}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with z.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > max_member:
                        raise PackageRefused(f"数据包被拒绝：{info.filename} 超过大小限制")
                    dst.write(chunk)


def _bag_root(into: Path) -> Path:
    if (into / "bagit.txt").is_file():
        return into
    subs = [p for p in into.iterdir() if p.is_dir()]
    if len(subs) == 1 and (subs[0] / "bagit.txt").is_file():
        return subs[0]
    raise PackageRefused("数据包被拒绝：找不到 bagit.txt（不是 BagIt 包）")


def _describe(exc: bagit.BagError, root: Path) -> str:
    details = getattr(exc, "details", None) or []
    parts = []
    for d in details[:5]:
        if isinstance(d, bagit.ChecksumMismatch):
            parts.append(f"{d.path}：{d.algorithm} 摘要不符（清单 {d.expected}，实际 {d.found}）")
        elif isinstance(d, bagit.FileMissing):
            parts.append(f"{d.path}：清单所列文件缺失")
        elif isinstance(d, bagit.UnexpectedFile):
            parts.append(f"{d.path}：清单未列的文件")
        else:
            parts.append(str(d))
    return "；".join(parts) or str(exc)


def _sm3(path: Path) -> str:
    h = hashlib.new("sm3")
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def open_package(zip_path: Path, work: Path, max_member: int) -> Package:
    """Check, extract and validate a BagIt ZIP; PackageRefused (422) names the file and the check."""
    refusal = zip_refusal(zip_path, max_member)
    if refusal:
        raise PackageRefused(f"数据包被拒绝：{refusal}")
    _extract(zip_path, work, max_member)
    root = _bag_root(work)
    try:
        bag = bagit.Bag(str(root))
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        raise PackageRefused(f"数据包校验失败：{_describe(exc, root)}") from None
    except bagit.BagError as exc:
        raise PackageRefused(f"数据包无效：{exc}") from None
    sm3_manifest = root / "manifest-sm3.txt"
    listed_sm3: dict[str, str] = {}
    if sm3_manifest.is_file():
        for line in sm3_manifest.read_text("utf-8").splitlines():
            if line.strip():
                digest, _, rel = line.partition("  ")
                listed_sm3[rel] = digest.strip().lower()
    meta = root / "metadata" / "items.xml"
    if not meta.is_file():
        raise PackageRefused("数据包被拒绝：缺少 metadata/items.xml（著录信息）")
    try:
        tree = ET.parse(meta)  # ElementTree expands no external entities
    except ET.ParseError as exc:
        raise PackageRefused(f"数据包被拒绝：metadata/items.xml 无法解析（{exc}）") from None
    payload = {rel.replace("\\", "/"): digests.get("sha256", "") for rel, digests in bag.payload_entries().items()}
    seen: set[str] = set()
    items = []
    for el in tree.getroot().findall("item"):
        md = {child.tag: (child.text or "") for child in el if child.tag != "文件"}
        files = []
        for f in el.iter("file"):
            rel = f.get("path", "")
            if rel not in payload:
                raise PackageRefused(f"数据包被拒绝：metadata/items.xml 所列文件 {rel} 不在数据包中")
            if payload[rel] != f.get("sha256", "").lower():
                raise PackageRefused(f"数据包被拒绝：{rel} 的 SHA-256 与 metadata/items.xml 不符")
            if rel in listed_sm3:
                found = _sm3(root / rel)
                if found != listed_sm3[rel]:
                    raise PackageRefused(f"数据包校验失败：{rel}：sm3 摘要不符（清单 {listed_sm3[rel]}，实际 {found}）")
            seen.add(rel)
            files.append((root / rel, PayloadFile(rel, payload[rel], listed_sm3.get(rel, ""),
                                                  int(f.get("size", "0") or 0), f.get("role", "main"),
                                                  f.get("format", ""))))
        if not files:
            raise PackageRefused(f"数据包被拒绝：档案 {md.get('档号', '')} 没有文件")
        if not md.get("题名", "").strip():
            raise PackageRefused(f"数据包被拒绝：档案 {md.get('档号', '')} 缺少题名")
        items.append(ImportedItem(md, files))
    extra = sorted(set(payload) - seen)
    if extra:
        raise PackageRefused(f"数据包被拒绝：{extra[0]} 未在 metadata/items.xml 中著录")
    if not items:
        raise PackageRefused("数据包被拒绝：没有档案")
    return Package(root, dict((k, v if isinstance(v, str) else v[0]) for k, v in bag.info.items()), items)


def remove(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
