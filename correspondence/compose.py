"""Turn a RenderSpec into a page plan: header items, flow paragraphs broken into lines, pages of slots.

Both renderers use the plan: render_pdf draws it line by line; render_docx writes the same paragraphs
(and the same blank lines before the 版记) and lets Word/LibreOffice flow them on the same grid.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import layout as L
from . import segment
from .doc_templates import format_for
from .fonts import Face, FontConfig
from .fonts import faces as load_faces
from .linebreak import balanced_lines, break_lines, units_of
from .spec import RenderSpec, heading_level

HEADING_ROLES = {0: "fangsong", 1: "heiti", 2: "kaiti", 3: "fangsong", 4: "fangsong"}


def cn_date(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class HeaderText:
    """A first-page line outside the flow (发文字号, 签发人, 紧急程度, 纪要's issuer/date)."""

    top: float  # em top, mm from the page top
    text: str
    role: str = "fangsong"
    size: float = L.BODY_PT
    align: str = "center"  # left | center | right (within the 版心, ``inset`` mm in from the side)
    inset: float = 0.0
    label: int = 0  # leading characters drawn in fangsong (签发人：) when role differs


@dataclass
class Para:
    kind: str
    text: str = ""
    role: str = "fangsong"
    size: float = L.BODY_PT
    align: str = "justify"  # justify | left | center | split
    first_x: float = 0.0  # mm from the 版心's left edge
    cont_x: float = 0.0
    right_inset: float = 0.0
    label: int = 0  # leading characters in label_role (出席：, 抄送：)
    label_role: str = "fangsong"
    right_text: str = ""  # split rows: text flush right (印发日期)
    char_space: float = 0.0  # points added after every character
    color: tuple = (0.0, 0.0, 0.0)
    keep_with_next: bool = False
    forced: list[str] | None = None  # pre-broken lines (title)
    names: tuple[str, ...] = ()  # names in the text that a line break never splits (主送, 抄送, 出席)
    fill: bool = False  # a blank line only pushing the 版记 to the page foot (the DOCX anchors it instead)
    lines: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return self.kind == "blank"


@dataclass
class Placed:
    para: Para
    index: int  # line number within the paragraph
    text: str
    start: int  # offset of the line's first character in para.text


@dataclass
class Page:
    number: int
    slots: dict[int, Placed] = field(default_factory=dict)
    rules: list[L.Rule] = field(default_factory=list)
    show_number: bool = True


@dataclass
class Plan:
    spec: RenderSpec
    variant: dict
    faces: dict[str, Face]
    header: L.Header
    header_texts: list[HeaderText]
    paras: list[Para]
    pages: list[Page]


def _width_fn(face: Face, size: float, char_space: float):
    return lambda s: face.width(s, size) + len(s) * char_space


def _title_lines(title: str, face: Face) -> list[str]:
    """Break a long title into balanced lines between words (梯形 or 菱形; never 市/场 or 建/立)."""
    per = L.title_chars_per_line()
    n = -(-len(title) // per)
    if n <= 1:
        return [title]
    words = segment.words(title)
    for lines_n in range(n, n + 2):
        lines = balanced_lines(words, lines_n, per) if lines_n <= 4 else None
        if lines is not None:
            return lines
    return break_lines(title, lambda s: face.width(s, L.TITLE_PT), L.BODY_W * L.MM, units=words)


def _repeats(title: str, masthead: str) -> bool:
    a, b = "".join(title.split()), "".join(masthead.split())
    return a in b or b in a


def _masthead(spec: RenderSpec, variant: dict) -> str:
    return spec.masthead or variant["masthead"].format(issuer=spec.issuer)


def _header_texts(spec: RenderSpec, variant: dict, h: L.Header) -> list[HeaderText]:
    out: list[HeaderText] = []
    cp = L.CHAR_PITCH
    letter = variant["rule"] == "double"
    if spec.urgency:
        if letter:
            out.append(HeaderText(h.number_top, spec.urgency, "heiti", align="left"))
        else:
            out.append(HeaderText(L.em_top_in_slot(0, L.BODY_PT), spec.urgency, "heiti", align="left"))
    if letter:
        if spec.number:
            out.append(HeaderText(h.number_top, spec.number, align="right"))
        if spec.signer:
            out.append(HeaderText(h.number_top + L.LINE_PITCH, "签发人：" + spec.signer, "kaiti",
                                  align="right", label=4))
    elif spec.signer:
        if spec.number:
            out.append(HeaderText(h.number_top, spec.number, align="left", inset=cp))
        out.append(HeaderText(h.number_top, "签发人：" + spec.signer, "kaiti", align="right", inset=cp, label=4))
    elif spec.number:
        out.append(HeaderText(h.number_top, spec.number, align="center"))
    if h.second_line_top is not None:
        top = h.second_line_top
        out.append(HeaderText(top, spec.printer or spec.issuer, align="left", inset=cp))
        out.append(HeaderText(top, cn_date(spec.date), align="right", inset=cp))
    return out


def _signature(spec: RenderSpec, f: dict[str, Face]) -> list[Para]:
    """Unsealed (GB/T 9704 7.3.5.2): 署名 two characters from the right, the date two characters right of the
    署名's start. Sealed (7.3.5.1): the date four characters from the right, the 署名 centred on the date."""
    cp = L.CHAR_PITCH
    w = _width_fn(f["fangsong"], L.BODY_PT, L.BODY_CHAR_SPACE_PT)
    name, dt = spec.issuer, cn_date(spec.date)
    wn, wd = w(name) * L.PT, w(dt) * L.PT
    if spec.sealed:
        date_x = L.BODY_W - L.SEALED_DATE_RIGHT_CHARS * cp - wd
        name_x = min(date_x + (wd - wn) / 2, L.BODY_W - wn)
    else:
        name_x = L.BODY_W - 2 * cp - wn
        date_x = name_x + 2 * cp
        if date_x + wd > L.BODY_W - 2 * cp + 0.01:
            date_x = L.BODY_W - 2 * cp - wd
            name_x = date_x - 2 * cp
    cs = L.BODY_CHAR_SPACE_PT
    if spec.sealed and spec.co_issuers:
        return [Para("blank"), *_joint_signatures([spec.issuer, *spec.co_issuers], date_x, wd, w),
                Para("date", dt, align="left", char_space=cs, first_x=date_x, cont_x=date_x)]
    return [Para("blank"),
            Para("signature", name, align="left", char_space=cs, first_x=max(name_x, 0), cont_x=max(name_x, 0),
                 keep_with_next=True),
            Para("date", dt, align="left", char_space=cs, first_x=date_x, cont_x=date_x)]


#: A row of a joint letter's 署名 holds up to two names; rows are this many lines apart so seals never touch.
JOINT_ROW_LINES = int(L.SEAL_DIAMETER // L.LINE_PITCH) + 1
JOINT_SEAL_GAP = 4.0  # mm between neighbouring seals in a row


def _joint_signatures(names: list[str], date_x: float, wd: float, w) -> list[Para]:
    """The 署名 of a joint letter, sealed (GB/T 9704 7.3.5.1): the issuers in order, two to a row, each seal
    centred on its name, rows far enough apart that seals neither cross nor touch; the last name sits over
    the 成文日期 (centred on it) and its seal presses both. A row is one line, its names separated by
    ideographic spaces on the character grid; ``names`` on the Para keeps each name whole."""
    cs, cp, space = L.BODY_CHAR_SPACE_PT, L.CHAR_PITCH, "\u3000"
    right_cx = date_x + wd / 2
    rows: list[tuple[list[str], float]] = []  # names of a row, and its first name's x
    i = 0
    while i < len(names):
        wa = w(names[i]) * L.PT
        if i + 1 < len(names):
            wb = w(names[i + 1]) * L.PT
            left_cx = right_cx - max(L.SEAL_DIAMETER + JOINT_SEAL_GAP, (wa + wb) / 2 + cp)
            if left_cx - max(L.SEAL_DIAMETER, wa) / 2 >= 0 and right_cx + wb / 2 <= L.BODY_W:
                rows.append((names[i:i + 2], left_cx - wa / 2))
                i += 2
                continue
        rows.append(([names[i]], min(right_cx - wa / 2, L.BODY_W - wa)))
        i += 1
    out: list[Para] = []
    for r, (row, first_x) in enumerate(rows):
        text = row[0]
        if len(row) == 2:
            want = right_cx - w(row[1]) * L.PT / 2
            gap = max(1, round((want - first_x - w(row[0]) * L.PT) / cp))
            text = row[0] + space * gap + row[1]
        if r:
            out += [Para("blank", keep_with_next=True) for _ in range(JOINT_ROW_LINES - 1)]
        out.append(Para("signature", text, align="left", char_space=cs, first_x=first_x, cont_x=first_x,
                        keep_with_next=True, names=tuple(row)))
    return out


def _flow(spec: RenderSpec, variant: dict, f: dict[str, Face]) -> list[Para]:
    cp = L.CHAR_PITCH
    cs = L.BODY_CHAR_SPACE_PT
    paras: list[Para] = []
    title = spec.title
    if spec.kind == "minutes" and title and _repeats(title, _masthead(spec, variant)):
        title = ""   # the 纪要's masthead already names it: no repeated title
    if title:
        paras.append(Para("title", title, "title", L.TITLE_PT, "center",
                          forced=_title_lines(title, f["title"]), keep_with_next=True))
        paras.append(Para("blank"))
    if variant["addressee"] and spec.to:
        paras.append(Para("addressee", "、".join(spec.to) + "：", align="left", char_space=cs,
                          names=tuple(spec.to)))
    minutes = spec.kind == "minutes"
    for text in spec.body:
        level = heading_level(text)
        role = HEADING_ROLES[level]
        # a run-in heading ("（一）关于…。正文…"): only its first sentence takes the heading font
        run_in = text.find("。") + 1 if role != "fangsong" else 0
        if minutes and role != "fangsong":
            # a 纪要 decision: the run-in heading ends at the first 。 or ：; a decision of one sentence is
            # body text (仿宋); a line without a sentence end is a heading of its own
            ends = [i for i in (text.find("。"), text.find("：")) if i >= 0]
            run_in = min(ends) + 1 if ends else 0
            if run_in == len(text.rstrip()):
                role, run_in = "fangsong", 0
        if 0 < run_in < len(text):
            paras.append(Para(f"heading{level}", text, "fangsong", first_x=2 * cp, label=run_in, label_role=role,
                              char_space=cs))
        else:
            paras.append(Para(f"heading{level}" if level else "body", text, role, first_x=2 * cp, char_space=cs))
    if spec.attachments:
        paras.append(Para("blank"))
        many = len(spec.attachments) > 1
        for i, name in enumerate(spec.attachments, 1):
            name = name.rstrip("。.；;，,")
            lead = "附件：" if i == 1 else ""
            num = f"{i}." if many else ""
            x0 = 2 * cp + (0 if i == 1 else 3 * cp)
            cont = 2 * cp + 3 * cp + (_width_fn(f["fangsong"], L.BODY_PT, L.BODY_CHAR_SPACE_PT)(num) * L.PT)
            paras.append(Para("attachment", lead + num + name, first_x=x0, cont_x=cont, char_space=cs))
    if variant.get("attendance") and spec.attendance is not None and spec.attendance.rows():
        paras.append(Para("blank"))
        for label, items in spec.attendance.rows():
            paras.append(Para("attendance", f"{label}：" + "，".join(items), first_x=2 * cp, cont_x=5 * cp,
                              label=3, label_role="heiti", char_space=cs, names=tuple(items), align="left"))
    if variant["signature"]:
        # GB/T 9704: the 署名 and date never stand alone on a page — keep the last paragraph with them.
        paras[-1].keep_with_next = True
        sig = _signature(spec, f)
        sig[0].keep_with_next = True
        paras.extend(sig)
    if spec.note:
        note = spec.note if spec.note.startswith(("（", "(")) else f"（{spec.note}）"
        if not variant["signature"]:
            paras.append(Para("blank"))
        paras.append(Para("note", note, first_x=2 * cp, cont_x=0, char_space=cs))
    return paras


def _colophon(spec: RenderSpec, variant: dict, f: dict[str, Face]) -> list[Para]:
    cp = L.COLOPHON_PT * L.PT
    rows: list[Para] = []
    if spec.cc:
        label = "分送：" if spec.kind == "minutes" else "抄送："   # a 纪要 is distributed (分送) to participants
        rows.append(Para("cc", label + "，".join(spec.cc) + "。", size=L.COLOPHON_PT, first_x=cp, cont_x=4 * cp,
                         right_inset=cp, align="left", names=tuple(spec.cc)))
    if variant["colophon_printer"]:
        pd = spec.print_date or spec.date
        rows.append(Para("printer", spec.printer or spec.issuer, size=L.COLOPHON_PT, align="split", first_x=cp,
                         right_inset=cp, right_text=f"{cn_date(pd)}印发"))
    return rows


def _break(p: Para, f: dict[str, Face]) -> None:
    if p.blank:
        p.lines = [""]
    elif p.forced is not None:
        p.lines = list(p.forced)
    elif p.align == "split":
        p.lines = [p.text]
    else:
        w = _width_fn(f[p.role], p.size, p.char_space)
        first = (L.BODY_W - p.first_x - p.right_inset) * L.MM
        rest = (L.BODY_W - p.cont_x - p.right_inset) * L.MM
        p.lines = break_lines(p.text, w, first, rest, units=units_of(p.text, p.names) if p.names else None)


def _paginate(paras: list[Para], colophon: list[Para], first_slot: int, variant: dict) -> tuple[list[Para], list[Page]]:
    pages = [Page(1, show_number=variant["page_number_on_first_page"])]
    slot = first_slot
    flow: list[Para] = []

    def new_page():
        nonlocal slot
        pages.append(Page(len(pages) + 1))
        slot = 0

    i = 0
    while i < len(paras):
        p = paras[i]
        # keep a chain of keep_with_next paragraphs on one page when it fits on a fresh page
        chain, j = len(p.lines), i
        while paras[j].keep_with_next and j + 1 < len(paras):
            j += 1
            chain += len(paras[j].lines)
        if j > i and slot + chain > L.LINES and chain <= L.LINES and slot > 0:
            new_page()
        for k, text in enumerate(p.lines):
            if slot >= L.LINES:
                new_page()
            start = sum(len(t) for t in p.lines[:k])
            pages[-1].slots[slot] = Placed(p, k, text, start)
            slot += 1
        flow.append(p)
        i += 1
    if colophon:
        rows = sum(len(c.lines) for c in colophon)
        free = L.LINES - slot
        fill = free - rows if free >= rows + 1 else free + (L.LINES - rows)
        for _ in range(fill):
            if slot >= L.LINES:
                new_page()
            blank = Para("blank", lines=[""], fill=True)
            pages[-1].slots[slot] = Placed(blank, 0, "", 0)
            flow.append(blank)
            slot += 1
        if slot >= L.LINES:
            new_page()
        first_row, inner = slot, []
        for c in colophon:
            if slot != first_row:
                inner.append(slot)
            for k, text in enumerate(c.lines):
                pages[-1].slots[slot] = Placed(c, k, text, sum(len(t) for t in c.lines[:k]))
                slot += 1
            flow.append(c)
        if variant["colophon_rules"]:
            pages[-1].rules.extend(L.colophon_rules(first_row, inner))
    return flow, pages


def joint_seal_positions(plan: Plan) -> list[tuple[str, int, float, float]]:
    """(name, page, centre x, centre y) of each issuer's seal on a joint letter's 署名 rows, in issuer order;
    the last one is ``seal_position`` (over the last name and the 成文日期). Empty for a single issuer."""
    rows = [(page.number, slot, pl) for page in plan.pages for slot, pl in sorted(page.slots.items())
            if pl.para.kind == "signature" and pl.para.names]
    last = seal_position(plan)
    if not rows or last is None:
        return []
    out = []
    for page_no, slot, pl in rows:
        p = pl.para
        w = _width_fn(plan.faces[p.role], p.size, p.char_space)
        cy = L.slot_top(slot) + L.LINE_PITCH / 2
        for name in p.names:
            x = p.first_x + w(pl.text[:pl.text.index(name)]) * L.PT
            out.append((name, page_no, L.LEFT + x + w(name) * L.PT / 2, cy))
    out[-1] = (out[-1][0], *last)
    return out


def seal_position(plan: Plan) -> tuple[int, float, float] | None:
    """(page number, centre x, centre y in mm from the page's top-left) of the seal over the 署名 and
    成文日期 (layout.seal_centre), or None when the format has no 署名."""
    where: dict[str, tuple[int, int, Placed]] = {}
    for page in plan.pages:
        for slot, pl in page.slots.items():
            if pl.para.kind in {"signature", "date"} and pl.index == 0:
                where[pl.para.kind] = (page.number, slot, pl)
    if "signature" not in where or "date" not in where:
        return None
    page_no, sig_slot, _ = where["signature"]
    _, date_slot, date = where["date"]
    p = date.para
    w = _width_fn(plan.faces[p.role], p.size, p.char_space)(date.text) * L.PT
    cx, cy = L.seal_centre(sig_slot, date_slot, p.first_x, w)
    return page_no, cx, cy


def compose(spec: RenderSpec, fonts: FontConfig | None = None) -> Plan:
    f = load_faces(fonts)
    variant = format_for(spec.kind)
    head = L.header(variant, _masthead(spec, variant),
                    extra_lines=1 if spec.signer and variant["rule"] == "double" else 0,
                    has_number=bool(spec.number))
    paras = _flow(spec, variant, f)
    colophon = _colophon(spec, variant, f)
    for p in paras + colophon:
        _break(p, f)
    flow, pages = _paginate(paras, colophon, head.first_slot, variant)
    pages[0].rules[:0] = list(head.rules)
    return Plan(spec, variant, f, head, _header_texts(spec, variant, head), flow, pages)
