"""Render a spec as a GB/T 9704 PDF with reportlab (CJK TrueType subsets embedded, no base-14 font)."""
from __future__ import annotations

import io
import zlib
from datetime import datetime

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from . import layout as L
from .compose import HeaderText, Placed, Plan, compose
from .fonts import FontConfig
from .pdfa import CHINA, make_pdfa
from .spec import parse_spec

PAGE = (L.PAGE_W * L.MM, L.PAGE_H * L.MM)


class _FastFlate(pdfdoc.PDFStreamFilterZCompress):
    """Flate at level 1: deflating the embedded CJK font subsets at zlib's default level is a third of
    the time of a letter; level 1 costs about 8 % in file size. (reportlab reads the filter from this
    module attribute for every stream, so this applies process-wide.)"""

    def encode(self, text):
        if isinstance(text, str):
            text = text.encode("utf8")
        return zlib.compress(text, 1)


if type(pdfdoc.PDFZCompress) is pdfdoc.PDFStreamFilterZCompress:
    pdfdoc.PDFZCompress = _FastFlate()


class _Drawer:
    def __init__(self, plan: Plan, canvas: Canvas, fonts: FontConfig):
        self.plan, self.c, self.fonts = plan, canvas, fonts
        self.f = plan.faces

    def y(self, mm_from_top: float) -> float:
        return (L.PAGE_H - mm_from_top) * L.MM

    def text(self, x_mm: float, em_top: float, segments: list[tuple[str, str]], size: float,
             char_space: float = 0.0, color=(0, 0, 0)) -> None:
        """Draw ``segments`` [(text, role)] from ``x_mm`` with its em box starting at ``em_top``."""
        c = self.c
        x = x_mm * L.MM
        for text, role in segments:
            if not text:
                continue
            face = self.f[role]
            bold = self.fonts.fake_bold(role)
            # colour and text render mode belong to the graphics state: isolate each segment
            c.saveState()
            c.setFillColorRGB(*color)
            if bold:
                c.setStrokeColorRGB(*color)
                c.setLineWidth(bold * size)
            t = c.beginText()
            t.setFont(face.name, size)
            t.setCharSpace(char_space)
            if bold:
                t.setTextRenderMode(2)
            y = self.y(L.baseline(em_top, size, face.descent))
            # Each font subset run is placed explicitly: readers such as pdfminer drop the character
            # spacing at a subset switch inside one string. Characters the face lacks are drawn with
            # the fallback face (per character), on the same baseline.
            for part, part_face in face.runs(text):
                if part_face is not face:
                    t.setFont(part_face.name, size)
                for run in self.subset_runs(part_face, part):
                    t.setTextOrigin(x, y)
                    t.textOut(run)
                    x += part_face.font.stringWidth(run, size) + len(run) * char_space
                if part_face is not face:
                    t.setFont(face.name, size)
            c.drawText(t)
            c.restoreState()

    def subset_runs(self, face, text: str) -> list[str]:
        runs, i = [], 0
        for _subset, codes in face.font.splitString(text, self.c._doc):
            runs.append(text[i:i + len(codes)])
            i += len(codes)
        return runs

    def width(self, text: str, role: str, size: float, char_space: float = 0.0) -> float:
        return (self.f[role].width(text, size) + len(text) * char_space) * L.PT

    def header(self) -> None:
        h = self.plan.header
        w = self.width(h.masthead_text, "title", h.masthead_pt)
        self.text(L.LEFT + (L.BODY_W - w) / 2, h.masthead_top, [(h.masthead_text, "title")], h.masthead_pt,
                  color=L.RED)
        for ht in self.plan.header_texts:
            self.header_text(ht)

    def header_text(self, ht: HeaderText) -> None:
        segs = [(ht.text[:ht.label], "fangsong"), (ht.text[ht.label:], ht.role)]
        w = sum(self.width(t, r, ht.size, L.BODY_CHAR_SPACE_PT) for t, r in segs)
        if ht.align == "left":
            x = L.LEFT + ht.inset
        elif ht.align == "right":
            x = L.LEFT + L.BODY_W - ht.inset - w + L.BODY_CHAR_SPACE_PT * L.PT
        else:
            x = L.LEFT + (L.BODY_W - w) / 2
        self.text(x, ht.top, segs, ht.size, L.BODY_CHAR_SPACE_PT)

    def line(self, slot: int, pl: Placed) -> None:
        p = pl.para
        if p.blank or not pl.text:
            return
        em_top = L.em_top_in_slot(slot, p.size)
        x0 = p.first_x if pl.index == 0 else p.cont_x
        label_left = max(0, p.label - pl.start)
        segs = [(pl.text[:label_left], p.label_role), (pl.text[label_left:], p.role)]
        cs = p.char_space
        if p.align == "center":
            w = sum(self.width(t, r, p.size, cs) for t, r in segs)
            x0 = (L.BODY_W - w) / 2
        elif p.align == "justify" and pl.index < len(p.lines) - 1 and len(pl.text) > 1:
            avail = (L.BODY_W - x0 - p.right_inset) * L.MM
            natural = sum(self.f[r].width(t, p.size) for t, r in segs)
            cs = (avail - natural) / (len(pl.text) - 1)
        self.text(L.LEFT + x0, em_top, segs, p.size, cs, p.color)
        if p.right_text:
            w = self.width(p.right_text, p.role, p.size, cs)
            self.text(L.LEFT + L.BODY_W - p.right_inset - w, em_top, [(p.right_text, p.role)], p.size, cs)

    def rule(self, r: L.Rule) -> None:
        self.c.setFillColorRGB(*r.color)
        self.c.rect(r.x * L.MM, self.y(r.top + r.height), r.width * L.MM, r.height * L.MM, stroke=0, fill=1)

    def page_number(self, n: int) -> None:
        text = f"— {n} —"
        w = self.width(text, "fangsong", L.PAGE_NUMBER_PT)
        self.text(L.page_number_x(n, w), L.page_number_em_top(), [(text, "fangsong")], L.PAGE_NUMBER_PT)


def render_plan(plan: Plan, fonts: FontConfig | None = None, created: datetime | None = None) -> bytes:
    """PDF/A-2b bytes of ``plan``; ``created`` (the issuing time) is the CreationDate, by default the
    成文日期 at 00:00 China time, so a preview is reproducible."""
    fonts = fonts or FontConfig.from_env()
    buf = io.BytesIO()
    spec = plan.spec
    body = plan.faces["fangsong"].name
    c = Canvas(buf, pagesize=PAGE, pageCompression=1, invariant=1, initialFontName=body,
               initialFontSize=L.BODY_PT)
    c.setTitle(spec.title or plan.header.masthead_text)
    c.setAuthor(spec.issuer)
    c.setSubject(spec.number or "")
    c.setCreator("archive-service")
    d = _Drawer(plan, c, fonts)
    for page in plan.pages:
        if page.number == 1:
            d.header()
        for r in page.rules:
            d.rule(r)
        for slot, pl in sorted(page.slots.items()):
            d.line(slot, pl)
        if page.show_number:
            d.page_number(page.number)
        c.showPage()
    if created is None:
        created = datetime(spec.date.year, spec.date.month, spec.date.day, tzinfo=CHINA)
    make_pdfa(c, created)
    c.save()
    return buf.getvalue()


def render_pdf(spec, fonts: FontConfig | None = None, created: datetime | None = None) -> bytes:
    """PDF/A-2b bytes for ``spec`` (a RenderSpec or its dict form; bad specs raise SpecError)."""
    fonts = fonts or FontConfig.from_env()
    return render_plan(compose(parse_spec(spec), fonts), fonts, created)
