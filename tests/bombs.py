"""Hostile files for the extraction sandbox tests, built small in memory (nothing huge is ever held)."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib


def docx_bomb(xml_mb: int = 60) -> bytes:
    """A DOCX whose word/document.xml inflates from a few dozen KB to ``xml_mb`` MB."""
    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    src = zipfile.ZipFile(base)
    out = io.BytesIO()
    para = b"<w:p><w:r><w:t>" + "审批档案".encode() * 20 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info, src.read(info.filename))
                continue
            head, _, _tail = src.read(info.filename).partition(b"<w:body>")
            with zf.open("word/document.xml", "w", force_zip64=True) as fh:
                fh.write(head + b"<w:body>")
                block = para * 1000
                for _ in range(xml_mb * 1024 * 1024 // len(block)):
                    fh.write(block)
                fh.write(b"</w:body></w:document>")
    return out.getvalue()


def huge_page_pdf(points: int = 7200) -> bytes:
    """A few hundred bytes: one empty page of ``points`` × ``points`` pt (100 × 100 inches at 7200)."""
    objs = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 {points} {points}]/Resources<<>>>>".encode()]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def png(width: int, height: int, color_type: int = 0, bit_depth: int = 1) -> bytes:
    """A blank PNG of any size, compressed row by row (a 20000×20000 one is ~50 KB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    channels = {0: 1, 2: 3}[color_type]
    row = b"\x00" + b"\x00" * ((width * channels * bit_depth + 7) // 8)
    z = zlib.compressobj(1)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def long_docx(paragraphs: int) -> bytes:
    """An honest DOCX with many distinct paragraphs (slow to parse, ordinary compression ratio)."""
    import docx

    d = docx.Document()
    body = d.element.body
    from docx.oxml import parse_xml

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    xml = "".join(f"<w:p {ns}><w:r><w:t>第{i}段 编号{i * 7919 % 100003}</w:t></w:r></w:p>" for i in range(paragraphs))
    for el in parse_xml(f'<w:body xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">{xml}</w:body>'):
        body.append(el)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()
