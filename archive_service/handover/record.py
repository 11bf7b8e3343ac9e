"""档案交接文据 (电子档案移交与接收登记表, STANDARDS.md §4) of an accepted manifest, as PDF and DOCX.

The fields: 交接工作名称, 内容描述, 移交电子档案数量, 移交数据量 (GB, three decimals), 载体起止顺序号, 载体类型
"在线", 检验内容 (准确性 / 完整性 / 可用性 / 安全性: 合格 or 不合格, from the receipt report), and for both
sides 填表人, 审核人, 单位 (印章: the department's PAdES signature) and 日期; the annex lists every file's
digest with the algorithm named. The PDF uses the shared rendering module's CJK font (A4, the form's
table); user text reaches reportlab's markup escaped.

The signed PDF grows in two revisions: when the sender's signer signs the manifest, the form is rendered
with the sender's side filled in and the receiver's column left as one reserved box (``slot``), and signed
by the sender's department with an empty signature field over that box; at acceptance the receiver's
department signs into that field, its visible appearance (``receiver_stamp``) carrying the receiver's
检验内容, 单位, 填表人, 审核人 and 日期 — an allowed modification, so the sender's signature stays valid.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from xml.sax.saxutils import escape

from ..rendering.fonts import faces
from ..rendering.layout import MM
from .models import Handover, HandoverRevision

TITLE = "电子档案移交与接收登记表"
RECEIVER_FIELD = "ReceiverSignature"
SLOT_W, SLOT_H = 63 * MM, 34 * MM  # the receiver's box (points)
SIDE_ROWS = (("单位（印章）", "unit"), ("填表人", "filled_by"), ("审核人", "reviewed_by"), ("日期", "date"))
CHECK_NAMES = (("准确性", "真实性"), ("完整性", "完整性"), ("可用性", "可用性"), ("安全性", "安全性"))


@dataclass
class Side:
    unit: str
    filled_by: str  # 填表人
    reviewed_by: str  # 审核人
    date: str  # YYYY年MM月DD日


@dataclass
class RecordFields:
    name: str
    description: str
    count: int
    files: int
    gigabytes: str
    carrier_numbers: str
    carrier_type: str
    checks: dict[str, str]
    sender: Side
    receiver: Side
    digests: list[tuple[int, str, str, str]]  # (序号, 档号, file, SHA-256)
    manifest_digest: str

    def table_rows(self) -> list[tuple[str, str]]:
        return [("交接工作名称", self.name), ("内容描述", self.description or "—"),
                ("移交电子档案数量", f"{self.count} 件（{self.files} 个文件）"),
                ("移交数据量", f"{self.gigabytes} GB"), ("载体起止顺序号", self.carrier_numbers),
                ("载体类型", self.carrier_type),
                ("检验内容", "；".join(f"{k}：{v}" for k, v in self.checks.items()))]


def _day(at) -> str:
    return at.strftime("%Y年%m月%d日") if at else ""


def fields(h: Handover, rev: HandoverRevision, sender: Side, receiver: Side) -> RecordFields:
    report = json.loads(rev.report) if rev.report else {}
    props = report.get("properties", {})
    checks = {label: props.get(prop, "未检验") for label, prop in CHECK_NAMES}
    digests = []
    files = 0
    for ln in rev.lines:
        for p in json.loads(ln.parts):
            files += 1
            digests.append((ln.seq, ln.archival_code, p["filename"], p["sha256"]))
    return RecordFields(
        name=h.name, description=h.description, count=rev.item_count, files=files,
        gigabytes=f"{rev.total_bytes / 1024 ** 3:.3f}", carrier_numbers=f"0001–{rev.item_count:04d}（清单序号）",
        carrier_type="在线", checks=checks, sender=sender, receiver=receiver, digests=digests,
        manifest_digest=rev.digest)


def receiver_stamp(f: RecordFields) -> str:
    """The receiver's column as the text of its signature appearance (one line each)."""
    checks = list(f.checks.items())
    pairs = ["　".join(f"{k}：{v}" for k, v in checks[i:i + 2]) for i in range(0, len(checks), 2)]
    return "\n".join([f"单位（印章）：{f.receiver.unit}", f"填表人：{f.receiver.filled_by}",
                      f"审核人：{f.receiver.reviewed_by}", f"日期：{f.receiver.date}", "检验内容：", *pairs])


def render_pdf(f: RecordFields, slot: list | None = None) -> bytes:
    """The form as PDF. With ``slot`` (a list), the receiver's column and the 检验内容 are left to the
    receiver's signature box, whose place is appended to ``slot`` as (page, (x1, y1, x2, y2)) in points."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    class Slot(Flowable):
        def wrap(self, *_args):
            return SLOT_W, SLOT_H

        def draw(self):
            x, y = self.canv.absolutePosition(0, 0)
            assert slot is not None
            slot.append((self.canv.getPageNumber(), (round(x), round(y), round(x + SLOT_W), round(y + SLOT_H))))

    face = faces(roles=("fangsong",))["fangsong"].name
    body = ParagraphStyle("body", fontName=face, fontSize=11, leading=15, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=face, fontSize=8, leading=10, wordWrap="CJK")
    title = ParagraphStyle("title", fontName=face, fontSize=18, leading=26, alignment=1)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(escape(text), style)

    table_rows = f.table_rows()
    if slot is not None:
        table_rows = [(k, "由接收单位检验后填写（见接收单位签章栏）" if k == "检验内容" else v) for k, v in table_rows]
    rows = [[p(k), p(v)] for k, v in table_rows]
    t = Table(rows, colWidths=[40 * MM, 130 * MM])
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    t.setStyle(grid)
    sides: list[list] = [[p(""), p("移交单位"), p("接收单位")]]
    for i, (label, attr) in enumerate(SIDE_ROWS):
        theirs = p(getattr(f.receiver, attr)) if slot is None else (Slot() if i == 0 else "")
        sides.append([p(label), p(getattr(f.sender, attr)), theirs])
    s = Table(sides, colWidths=[40 * MM, 65 * MM, 65 * MM])
    s.setStyle(grid)
    if slot is not None:
        s.setStyle(TableStyle([("SPAN", (2, 1), (2, len(SIDE_ROWS)))]))
    annex = [[p("序号", small), p("档号", small), p("文件", small), p("SHA-256", small)]]
    annex += [[p(str(n), small), p(code, small), p(name, small), p(sha, small)] for n, code, name, sha in f.digests]
    a = Table(annex, colWidths=[12 * MM, 45 * MM, 38 * MM, 75 * MM], repeatRows=1)
    a.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black)]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * MM, rightMargin=20 * MM, topMargin=25 * MM,
                            bottomMargin=20 * MM, title=TITLE)
    doc.build([p(TITLE, title), Spacer(1, 6 * MM), t, Spacer(1, 6 * MM), s, PageBreak(),
               p("附件：摘要值清单（摘要算法：SHA-256）", body), Spacer(1, 3 * MM), a, Spacer(1, 3 * MM),
               p(f"清单摘要（SHA-256）：{f.manifest_digest}", small)])
    return out.getvalue()


def render_docx(f: RecordFields) -> bytes:
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "仿宋_GB2312"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")
    d.add_heading(TITLE, level=1)
    t = d.add_table(rows=0, cols=2)
    t.style = "Table Grid"
    for k, v in f.table_rows():
        cells = t.add_row().cells
        cells[0].text, cells[1].text = k, v
    d.add_paragraph("")
    s = d.add_table(rows=1, cols=3)
    s.style = "Table Grid"
    s.rows[0].cells[1].text, s.rows[0].cells[2].text = "移交单位", "接收单位"
    for label, attr in SIDE_ROWS:
        cells = s.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = label, getattr(f.sender, attr), getattr(f.receiver, attr)
    d.add_page_break()
    d.add_paragraph("附件：摘要值清单（摘要算法：SHA-256）")
    a = d.add_table(rows=1, cols=4)
    a.style = "Table Grid"
    for i, h in enumerate(("序号", "档号", "文件", "SHA-256")):
        a.rows[0].cells[i].text = h
    for n, code, name, sha in f.digests:
        cells = a.add_row().cells
        cells[0].text, cells[1].text, cells[2].text, cells[3].text = str(n), code, name, sha
    d.add_paragraph(f"清单摘要（SHA-256）：{f.manifest_digest}")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()
