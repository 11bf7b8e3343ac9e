"""Render a spec as a GB/T 9704 DOCX with python-docx, from the same plan as the PDF.

A4 with the standard margins, a document grid of 22 lines × 28 characters, East-Asian fonts set through
``w:rFonts/@w:eastAsia`` (python-docx has no property for it). The 版头 graphics (标志, red rules) and the
版记 rules are anchored VML shapes at page positions from layout.py; text lines are ordinary paragraphs
with exact line spacing so Word/LibreOffice flow them on the same grid as the PDF.
"""
from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import lru_cache
from xml.sax.saxutils import escape

import docx
from docx.oxml import parse_xml
from docx.shared import Mm

from . import layout as L
from .compose import HeaderText, Para, Plan, compose
from .fonts import FontConfig
from .pdfa import CHINA
from .spec import parse_spec

COLOPHON = ("cc", "printer")
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NSDECL = (f'xmlns:w="{W_NS}" xmlns:v="urn:schemas-microsoft-com:vml" '
          'xmlns:o="urn:schemas-microsoft-com:office:office"')
TW = 1440 / 25.4  # twips per mm
PITCH_TW = int(L.LINE_PITCH * TW)  # 579: 22 lines must fit in the 版心
#: Character spacing of 3号 text in twentieths of a point: 28 characters must fit the 156 mm line.
BODY_SPACING = int(L.BODY_CHAR_SPACE_PT * 20) - 1  # −5 = −0.25 pt


BODY_TW = round(L.BODY_W * 1440 / 25.4)
#: Lines inside the 版记 table are a little tighter than the grid so its rules and the (required)
#: paragraph after a table still fit on the page.
COLOPHON_LINE_TW = PITCH_TW - 30


def _border(side: str, mm: float) -> str:
    return f'<w:{side} w:val="single" w:sz="{max(2, round(mm * L.MM * 8))}" w:space="0" w:color="000000"/>'


def _tw(mm: float) -> int:
    return round(mm * TW)


def _hex(color) -> str:
    return "".join(f"{round(c * 255):02X}" for c in color)


class _Writer:
    def __init__(self, plan: Plan, names: dict[str, str]):
        self.plan, self.names = plan, names
        self.xml: list[str] = []

    # -- runs and paragraphs ------------------------------------------------------------------
    def run(self, text: str, role: str, size: float, color=(0, 0, 0), extra: str = "") -> str:
        if not text and not extra:
            return ""
        n = escape(self.names[role])
        colour = f'<w:color w:val="{_hex(color)}"/>' if any(color) else ""
        half = round(size * 2)
        spacing = f'<w:spacing w:val="{BODY_SPACING}"/>' if size == L.BODY_PT else ""
        body = extra
        if text:
            parts = text.split("\t")
            body += "<w:tab/>".join(f'<w:t xml:space="preserve">{escape(p)}</w:t>' for p in parts)
        return (f'<w:r><w:rPr><w:rFonts w:ascii="{n}" w:hAnsi="{n}" w:eastAsia="{n}" w:cs="{n}"/>{colour}'
                f'{spacing}<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr>{body}</w:r>')

    def para(self, runs: str, *, jc="both", left=0, first=0, right=0, exact=PITCH_TW, grid=True,
             keep=False, tabs: list[int] | None = None, anchors: str = "") -> None:
        ind = []
        if left:
            ind.append(f'w:left="{left}"')
        if first > 0:
            ind.append(f'w:firstLine="{first}"')
        elif first < 0:
            ind.append(f'w:hanging="{-first}"')
        if right:
            ind.append(f'w:right="{right}"')
        tab_xml = "".join(f'<w:tab w:val="right" w:pos="{t}"/>' for t in tabs or [])
        ppr = ("<w:pPr>" + ('<w:keepNext/>' if keep else "") + '<w:widowControl w:val="0"/>'
               + (f"<w:tabs>{tab_xml}</w:tabs>" if tab_xml else "")
               + '<w:overflowPunct w:val="0"/><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>'
               + ("" if grid else '<w:snapToGrid w:val="0"/>')
               + f'<w:spacing w:before="0" w:after="0" w:line="{exact}" w:lineRule="exact"/>'
               + (f"<w:ind {' '.join(ind)}/>" if ind else "") + f'<w:jc w:val="{jc}"/></w:pPr>')
        self.xml.append(f"<w:p>{ppr}{anchors}{runs}</w:p>")

    # -- anchored shapes ----------------------------------------------------------------------
    @staticmethod
    def rect(r: L.Rule) -> str:
        style = (f"position:absolute;margin-left:{r.x * L.MM:.2f}pt;margin-top:{r.top * L.MM:.2f}pt;"
                 f"width:{r.width * L.MM:.2f}pt;height:{r.height * L.MM:.2f}pt;z-index:-1;"
                 "mso-position-horizontal-relative:page;mso-position-vertical-relative:page")
        return (f'<w:r><w:pict><v:rect style="{style}" fillcolor="#{_hex(r.color)}" stroked="f"/>'
                "</w:pict></w:r>")

    def masthead(self) -> str:
        h = self.plan.header
        height = h.masthead_pt * 1.3
        top = h.masthead_top * L.MM - (height - h.masthead_pt) / 2
        style = (f"position:absolute;margin-left:{(L.LEFT - 20) * L.MM:.2f}pt;margin-top:{top:.2f}pt;"
                 f"width:{(L.BODY_W + 40) * L.MM:.2f}pt;height:{height:.2f}pt;z-index:1;"
                 "mso-position-horizontal-relative:page;mso-position-vertical-relative:page")
        run = self.run(h.masthead_text, "title", h.masthead_pt, L.RED)
        inner = (f'<w:p><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" '
                 f'w:line="{round(height * 20)}" w:lineRule="exact"/><w:jc w:val="center"/></w:pPr>{run}</w:p>')
        return (f'<w:r><w:pict><v:rect style="{style}" filled="f" stroked="f"><v:textbox inset="0,0,0,0">'
                f"<w:txbxContent>{inner}</w:txbxContent></v:textbox></v:rect></w:pict></w:r>")

    # -- blocks -------------------------------------------------------------------------------
    def header(self) -> None:
        plan = self.plan
        anchors = self.masthead() + "".join(self.rect(r) for r in plan.pages[0].rules)
        lines: dict[float, list[HeaderText]] = {}
        for ht in plan.header_texts:
            lines.setdefault(round(ht.top, 3), []).append(ht)
        used = 0
        target = plan.header.first_slot * PITCH_TW
        for top in sorted(lines):
            box_top = top - (L.LINE_PITCH - L.BODY_PT * L.PT) / 2 - L.TOP
            gap = _tw(box_top) - used
            if gap > 0:
                self.para("", exact=gap, grid=False, anchors=anchors)
                anchors, used = "", used + gap
            self.header_line(sorted(lines[top], key=lambda h: {"left": 0, "center": 1, "right": 2}[h.align]),
                             anchors)
            anchors, used = "", used + PITCH_TW
        rest = target - used
        if rest > 0 or anchors:
            self.para("", exact=max(rest, 20), grid=False, anchors=anchors)

    def header_line(self, items: list[HeaderText], anchors: str) -> None:
        def runs(ht: HeaderText) -> str:
            return (self.run(ht.text[:ht.label], "fangsong", ht.size)
                    + self.run(ht.text[ht.label:], ht.role, ht.size))

        if len(items) == 1:
            ht = items[0]
            jc = {"left": "left", "right": "right", "center": "center"}[ht.align]
            self.para(runs(ht), jc=jc, left=_tw(ht.inset) if jc == "left" else 0,
                      right=_tw(ht.inset) if jc == "right" else 0, grid=False, anchors=anchors)
            return
        left, right = items[0], items[-1]
        tab = _tw(L.BODY_W - right.inset)
        self.para(runs(left) + self.run("\t", "fangsong", right.size) + runs(right), jc="left",
                  left=_tw(left.inset), tabs=[tab - _tw(left.inset)], grid=False, anchors=anchors)

    def flow(self, p: Para, anchors: str = "", exact: int = PITCH_TW) -> None:
        if p.blank:
            self.para("", keep=p.keep_with_next, anchors=anchors)
            return
        if p.forced is not None:  # title: pre-broken lines
            brk = "<w:br/>"
            runs = "".join(self.run(line, p.role, p.size, p.color, extra=brk if i else "")
                           for i, line in enumerate(p.lines))
            self.para(runs, jc="center", grid=False, keep=p.keep_with_next, anchors=anchors)
            return
        label = p.text[:p.label]
        runs = self.run(label, p.label_role, p.size, p.color) + self.run(p.text[p.label:], p.role, p.size, p.color)
        grid = p.size == L.BODY_PT
        if p.align == "split":
            tab = _tw(L.BODY_W - p.right_inset - p.first_x)
            runs += self.run("\t" + p.right_text, p.role, p.size)
            self.para(runs, jc="left", left=_tw(p.first_x), tabs=[tab], grid=grid, anchors=anchors, exact=exact)
            return
        if p.kind == "date":
            # 成文日期: anchored at its right end (where the PDF puts it), so it never wraps even when the
            # word processor's face is a little wider than ours
            width = self.plan.faces[p.role].width(p.text, p.size) + len(p.text) * p.char_space
            right = max(0, _tw(L.BODY_W - p.first_x - width * L.PT))
            self.para(runs, jc="right", right=right, grid=grid, keep=p.keep_with_next, anchors=anchors,
                      exact=exact)
            return
        jc = {"justify": "both", "left": "left", "center": "center"}[p.align]
        self.para(runs, jc=jc, left=_tw(p.cont_x), first=_tw(p.first_x) - _tw(p.cont_x), right=_tw(p.right_inset),
                  grid=grid, keep=p.keep_with_next, anchors=anchors, exact=exact)

    def body(self) -> None:
        self.header()
        rows = [p for p in self.plan.paras if p.kind in COLOPHON]
        framed = bool(rows)  # 信函格式 too: its 抄送 sits at the foot without rules (GB/T 9704 10.1)
        for p in self.plan.paras:
            if p.kind not in COLOPHON and not (framed and p.fill):
                self.flow(p)
        if framed:
            self.colophon_frame(rows)
        else:
            for p in rows:
                self.flow(p)

    def _colophon_on_new_page(self) -> bool:
        """The plan put the 版记 on a page of its own (no room left under the text)."""
        pages = self.plan.pages
        last_text = max((pg.number for pg in pages for pl in pg.slots.values()
                         if not pl.para.fill and not pl.para.blank and pl.para.kind not in COLOPHON), default=1)
        first_colophon = min(pg.number for pg in pages for pl in pg.slots.values() if pl.para.kind in COLOPHON)
        return first_colophon > last_text

    def colophon_frame(self, rows: list[Para]) -> None:
        """版记 as a frame (w:framePr) whose last line ends on the bottom edge of the 版心 of the last page, by
        construction: no blank lines push it down, so it stays at the foot whatever the word processor's
        line heights. Its rules are the plan's, anchored at their page positions (LibreOffice turns the
        framed paragraphs into one text frame only when their borders agree, and inlines floating tables)."""
        if self._colophon_on_new_page():
            self.xml.append('<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
                            '<w:snapToGrid w:val="0"/></w:pPr><w:r><w:br w:type="page"/></w:r></w:p>')
        lines = sum(len(p.lines) for p in rows)
        top = L.BODY_BOTTOM - lines * L.LINE_PITCH
        frame = (f'<w:framePr w:w="{BODY_TW}" w:wrap="notBeside" w:vAnchor="page" w:hAnchor="margin" '
                 f'w:xAlign="center" w:y="{_tw(top)}"/>')
        for p in rows:
            mark = len(self.xml)
            self.flow(p)
            for k in range(mark, len(self.xml)):
                self.xml[k] = self.xml[k].replace("<w:widowControl", frame + "<w:widowControl", 1)
        # the frame's anchor paragraph (the frame is made when it ends) carries the 版记 rules; on a one-page
        # document the header already anchored them with the first page's rules
        pages = self.plan.pages
        rules = "".join(self.rect(r) for r in pages[-1].rules) if len(pages) > 1 else ""
        self.para("", exact=20, grid=False, anchors=rules)


def _section(document, plan: Plan, names: dict[str, str]) -> None:
    sec = document.sections[0]
    sec.page_width, sec.page_height = Mm(L.PAGE_W), Mm(L.PAGE_H)
    sec.top_margin, sec.bottom_margin = Mm(L.TOP), Mm(L.BOTTOM)
    sec.left_margin, sec.right_margin = Mm(L.LEFT), Mm(L.RIGHT)
    sec.header_distance = Mm(15)
    sec.footer_distance = Mm(L.PAGE_H - L.page_number_em_top() - L.PAGE_NUMBER_PT * L.PT - 0.5)
    grid = sec._sectPr.find(f"{{{W_NS}}}docGrid")
    # A line grid of 22 lines; the 28-character pitch comes from character spacing on 3号 runs
    # (LibreOffice misreads Word's character grid, w:type="linesAndChars", and spreads the text).
    grid.set(f"{{{W_NS}}}type", "lines")
    grid.set(f"{{{W_NS}}}linePitch", str(PITCH_TW))
    first_numbered = plan.variant["page_number_on_first_page"]
    sec.different_first_page_header_footer = not first_numbered
    document.settings.odd_and_even_pages_header_footer = True
    lang = document.settings.element.find(f"{{{W_NS}}}themeFontLang")
    if lang is not None:  # Chinese, not Japanese, line-breaking rules
        lang.set(f"{{{W_NS}}}eastAsia", "zh-CN")
    inset = round(L.PAGE_NUMBER_PT * 20)
    n = escape(names["fangsong"])
    rpr = (f'<w:rPr><w:rFonts w:ascii="{n}" w:hAnsi="{n}" w:eastAsia="{n}" w:cs="{n}"/>'
           f'<w:sz w:val="{round(L.PAGE_NUMBER_PT * 2)}"/></w:rPr>')

    def number_para(jc: str, ind: str) -> str:
        field = (f'<w:r>{rpr}<w:fldChar w:fldCharType="begin"/></w:r>'
                 f'<w:r>{rpr}<w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
                 f'<w:r>{rpr}<w:fldChar w:fldCharType="separate"/></w:r><w:r>{rpr}<w:t>1</w:t></w:r>'
                 f'<w:r>{rpr}<w:fldChar w:fldCharType="end"/></w:r>')
        return (f'<w:p {NSDECL}><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0"/>'
                f'<w:ind {ind}="{inset}"/><w:jc w:val="{jc}"/></w:pPr>'
                f'<w:r>{rpr}<w:t xml:space="preserve">— </w:t></w:r>{field}'
                f'<w:r>{rpr}<w:t xml:space="preserve"> —</w:t></w:r></w:p>')

    for footer, jc, ind in ((sec.footer, "right", "w:right"), (sec.even_page_footer, "left", "w:left")):
        footer.is_linked_to_previous = False
        el = footer._element
        for child in list(el):
            el.remove(child)
        el.append(parse_xml(number_para(jc, ind)))
    if not first_numbered:
        sec.first_page_footer.is_linked_to_previous = False


def _normal_style(document, names: dict[str, str]) -> None:
    """Normal and the document defaults: 3号仿宋 with the 28-character spacing (the document grid's
    character pitch is based on the default size, so the defaults must say 16 pt too), no paragraph
    spacing, no widow control."""
    defaults = document.styles.element.find(f"{{{W_NS}}}docDefaults")
    n = escape(names["fangsong"])
    half = round(L.BODY_PT * 2)
    for old in list(defaults):
        defaults.remove(old)
    defaults.append(parse_xml(
        f'<w:rPrDefault {NSDECL}><w:rPr><w:rFonts w:ascii="{n}" w:hAnsi="{n}" w:eastAsia="{n}" w:cs="{n}"/>'
        f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr>'
        f'</w:rPrDefault>'))
    defaults.append(parse_xml(f'<w:pPrDefault {NSDECL}><w:pPr><w:spacing w:after="0" w:line="{PITCH_TW}" '
                              f'w:lineRule="exact"/></w:pPr></w:pPrDefault>'))
    normal = document.styles.element.find(f'{{{W_NS}}}style[@{{{W_NS}}}styleId="Normal"]')
    for tag in ("pPr", "rPr"):
        for old in normal.findall(f"{{{W_NS}}}{tag}"):
            normal.remove(old)
    normal.append(parse_xml(f'<w:pPr {NSDECL}><w:widowControl w:val="0"/>'
                            f'<w:spacing w:before="0" w:after="0"/></w:pPr>'))
    # the 28-character pitch lives in the style too, so text typed into the DOCX stays on the grid
    normal.append(parse_xml(f'<w:rPr {NSDECL}><w:rFonts w:ascii="{n}" w:hAnsi="{n}" w:eastAsia="{n}" w:cs="{n}"/>'
                            f'<w:spacing w:val="{BODY_SPACING}"/>'
                            f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr>'))


KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "Header", "HeaderChar", "Footer",
               "FooterChar", "TableGrid"}


@lru_cache(maxsize=8)
def _template(names: tuple) -> bytes:
    """python-docx's default template without what a 公文 does not use — its 160 styles, the 400 KB
    stylesWithEffects part, customXml and an English thumbnail — with our defaults, once per process."""
    document = docx.Document()
    part = document.part
    for rid, rel in list(part.rels.items()):
        if rel.reltype.endswith(("/stylesWithEffects", "/customXml", "/numbering")):
            part.drop_rel(rid)
    package_rels = part.package.rels
    for rid, rel in list(package_rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del package_rels[rid]
    styles = document.styles.element
    for child in list(styles):
        if child.tag == f"{{{W_NS}}}latentStyles" or (
                child.tag == f"{{{W_NS}}}style" and child.get(f"{{{W_NS}}}styleId") not in KEEP_STYLES):
            styles.remove(child)
    _normal_style(document, dict(names))
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def render_plan_docx(plan: Plan, fonts: FontConfig, created: datetime | None = None) -> bytes:
    """DOCX bytes of ``plan``; ``created`` (the issuing time) dates the core properties, by default the
    成文日期 (so a preview is reproducible)."""
    names = fonts.docx_names
    document = docx.Document(io.BytesIO(_template(tuple(sorted(names.items())))))
    _section(document, plan, names)
    core = document.core_properties
    core.title = plan.spec.title or plan.header.masthead_text
    core.author, core.subject = plan.spec.issuer, plan.spec.number or ""
    core.last_modified_by = plan.spec.issuer
    core.keywords = plan.spec.number or ""
    core.category = {"letter": "信函", "minutes": "纪要", "standard": "文件"}.get(plan.spec.kind, "")
    core.language = "zh-CN"
    core.revision = 1
    when = created or datetime(plan.spec.date.year, plan.spec.date.month, plan.spec.date.day, tzinfo=CHINA)
    if when.tzinfo is not None:          # the system's clocks keep naive UTC, as docx core properties do
        when = when.astimezone(UTC).replace(tzinfo=None)
    core.created = core.modified = when.replace(microsecond=0)

    w = _Writer(plan, names)
    w.body()
    body = document.element.body
    sect = body[-1]
    frag = parse_xml(f"<w:body {NSDECL}>{''.join(w.xml)}</w:body>")
    for child in list(frag):
        sect.addprevious(child)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def render_docx(spec, fonts: FontConfig | None = None, created: datetime | None = None) -> bytes:
    """DOCX bytes for ``spec`` (a RenderSpec or its dict form; bad specs raise SpecError)."""
    fonts = fonts or FontConfig.from_env()
    return render_plan_docx(compose(parse_spec(spec), fonts), fonts, created)
