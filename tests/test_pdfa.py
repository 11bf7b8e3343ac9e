"""PDF/A-2b archival copies (issue 12 part 9): issued letters and the 公文处理单 carry an sRGB OutputIntent,
XMP with pdfaid part 2 / conformance B agreeing with the Info dictionary, /Lang zh-CN, a real creation date
and embedded fonts — and the signed file (an incremental update) still does.

veraPDF is not on the package registries; this is the structural floor, read back with pikepdf."""
from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path

import pikepdf

from correspondence.processing_sheet import render_processing_sheet
from correspondence.render_pdf import render_pdf
from correspondence.signing import sign_pdf, verify_pdf
from test_signing import BUREAU, LocalKeys

DATA = Path(__file__).parent / "data"
XMP_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")


def _pdf_date(value: str) -> datetime:
    m = re.match(r"D:(\d{14})(Z|[+-]\d\d'\d\d'?)", value)
    assert m, value
    zone = "+00:00" if m.group(2) == "Z" else m.group(2)[:3] + ":" + m.group(2)[4:6]
    return datetime.strptime(m.group(1) + zone, "%Y%m%d%H%M%S%z")


def pdfa_problems(data: bytes) -> list[str]:
    """What keeps ``data`` from being PDF/A-2b, as far as a structural check can tell."""
    problems = []
    if not re.match(rb"%PDF-1\.[0-7]\r?\n%[\x80-\xff]{4}", data[:20]):
        problems.append("header: %PDF-1.n followed by a binary comment")
    pdf = pikepdf.open(io.BytesIO(data))
    if pdf.is_encrypted:
        problems.append("encrypted")
    if "/ID" not in pdf.trailer:
        problems.append("trailer has no /ID")
    root = pdf.Root
    if str(root.get("/Lang", "")) != "zh-CN":
        problems.append("/Lang is not zh-CN")
    intents = root.get("/OutputIntents") or []
    pdfa = [oi for oi in intents if oi.get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        problems.append("no single GTS_PDFA1 OutputIntent")
    else:
        icc = pdfa[0].get("/DestOutputProfile")
        raw = icc.read_bytes() if icc is not None else b""
        if icc is None or int(icc.get("/N", 0)) != 3 or raw[36:40] != b"acsp" or raw[16:20] != b"RGB ":
            problems.append("OutputIntent profile is not an RGB ICC profile")
    meta = root.get("/Metadata")
    if meta is None:
        return [*problems, "no XMP metadata"]
    if "/Filter" in meta.stream_dict:
        problems.append("metadata stream is filtered")
    xmp = pdf.open_metadata()
    if xmp.get("pdfaid:part") != "2" or xmp.get("pdfaid:conformance") != "B":
        problems.append(f"pdfaid is {xmp.get('pdfaid:part')}{xmp.get('pdfaid:conformance')}, not 2B")
    info = pdf.docinfo
    pairs = {"/Title": "dc:title", "/Subject": "dc:description", "/Keywords": "pdf:Keywords",
             "/Creator": "xmp:CreatorTool", "/Producer": "pdf:Producer"}
    for key, prop in pairs.items():
        if key in info and str(info[key]) != str(xmp.get(prop)):
            problems.append(f"Info {key} {str(info[key])!r} != XMP {prop} {xmp.get(prop)!r}")
    if "/Author" in info and [str(info["/Author"])] != list(xmp.get("dc:creator") or []):
        problems.append("Info /Author != XMP dc:creator")
    for key, prop in (("/CreationDate", "xmp:CreateDate"), ("/ModDate", "xmp:ModifyDate")):
        if key in info:
            if not XMP_DATE.match(str(xmp.get(prop) or "")):
                problems.append(f"XMP {prop} missing or malformed")
            elif _pdf_date(str(info[key])) != datetime.fromisoformat(str(xmp.get(prop))):
                problems.append(f"Info {key} != XMP {prop}")
    for page in pdf.pages:
        for name, font in (page.get("/Resources", {}).get("/Font") or {}).items():
            fonts = [font, *(font.get("/DescendantFonts") or [])]
            if not any(any(k in (f.get("/FontDescriptor") or {}) for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                       for f in fonts):
                problems.append(f"font {name} is not embedded")
    if "/JavaScript" in (root.get("/Names") or {}) or "/OpenAction" in root:
        problems.append("actions or JavaScript")
    return problems


def letter() -> dict:
    return json.loads((DATA / "render_letter.json").read_text(encoding="utf-8"))


def test_letter_pdf_is_pdfa_2b_with_a_real_creation_date():
    issued = datetime(2026, 3, 5, 2, 30)                 # naive UTC: 10:30 in China
    pdf = render_pdf(letter(), created=issued)
    assert pdfa_problems(pdf) == []
    doc = pikepdf.open(io.BytesIO(pdf))
    assert str(doc.docinfo["/CreationDate"]) == "D:20260305103000+08'00'"
    assert doc.open_metadata().get("xmp:CreateDate") == "2026-03-05T10:30:00+08:00"
    assert str(doc.docinfo["/Title"]).startswith("关于商请协助研究")
    # a preview without an issuing time is dated on its 成文日期 and renders the same bytes twice
    assert render_pdf(letter()) == render_pdf(letter())


def test_signed_letter_is_still_pdfa_and_verifies(tmp_path):
    keys = LocalKeys(tmp_path / "instance")
    pdf = render_pdf(letter(), created=datetime(2026, 3, 5, 2, 30))
    signed = sign_pdf(pdf, BUREAU, signer_name="局长李明", keys=keys)
    assert signed.startswith(pdf)
    assert pdfa_problems(signed) == []
    report = verify_pdf(signed, keys.trust_roots())
    assert report.ok and report.signatures[0].covers_whole_file


def test_processing_sheet_is_pdfa():
    sheet = render_processing_sheet("关于商请协助研究有关问题的函", "石审批函〔2026〕7号", [
        {"action": "拟稿", "actor": "张伟", "at": "2026-03-04 09:00", "opinion": ""},
        {"action": "签发", "actor": "李明", "at": "2026-03-05 10:00", "opinion": "同意印发"}],
        created=datetime(2026, 3, 5, 2, 30))
    assert pdfa_problems(sheet) == []


def test_the_check_catches_a_plain_pdf():
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf)
    c.drawString(100, 700, "plain")
    c.save()
    problems = pdfa_problems(buf.getvalue())
    assert "/Lang is not zh-CN" in problems and "no XMP metadata" in problems
    assert any("OutputIntent" in p for p in problems)
