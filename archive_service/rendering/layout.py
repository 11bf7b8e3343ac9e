"""GB/T 9704-2012 page geometry, once, for both renderers (see STANDARDS.md §1).

All lengths are millimetres measured from the top-left corner of the page unless a name says ``_pt``.
Body text lives on a grid of 22 lines × 28 characters filling the 版心 (156 × 225 mm). Each grid line is
a *slot*; a line of text is vertically centred in its slot. The first page starts lower, after the
版头 (masthead, 发文字号, red rule); :func:`header` computes that block per format variant (信函格式,
纪要格式, 文件格式 — the variant data lives in templates/documents/<kind>.json).
"""
from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4  # points per millimetre
PT = 25.4 / 72  # millimetres per point

PAGE_W, PAGE_H = 210.0, 297.0
TOP, LEFT, RIGHT, BOTTOM = 37.0, 28.0, 26.0, 35.0
BODY_W, BODY_H = PAGE_W - LEFT - RIGHT, PAGE_H - TOP - BOTTOM  # 156 × 225
BODY_BOTTOM = TOP + BODY_H  # 262
LINES, CHARS = 22, 28
LINE_PITCH = BODY_H / LINES  # ≈ 10.23 mm ≈ 28.99 pt
CHAR_PITCH = BODY_W / CHARS  # ≈ 5.57 mm ≈ 15.79 pt

# Font sizes (points): 3号 body, 2号 title, 4号 版记 and page numbers.
BODY_PT = 16.0
TITLE_PT = 22.0
COLOPHON_PT = 14.0
PAGE_NUMBER_PT = 14.0
BODY_CHAR_SPACE_PT = CHAR_PITCH * MM - BODY_PT  # ≈ −0.21 pt, as Word's document grid does

# Separator rules (mm).
RED = (1.0, 0.0, 0.0)
RED_RULE = 0.5
LETTER_THICK, LETTER_THIN, LETTER_GAP = 0.8, 0.3, 0.6
LETTER_RULE_LEN = 170.0
LETTER_BOTTOM_RULE_FROM_BOTTOM = 20.0
COLOPHON_THICK, COLOPHON_THIN = 0.35, 0.25

PAGE_NUMBER_GAP = 7.0  # below the 版心
NUMBER_GAP_BELOW_MASTHEAD_LINES = 2  # 发文字号: two blank lines below the masthead
RULE_GAP_BELOW_NUMBER = 4.0  # red rule 4 mm below the 发文字号
LETTER_RULE_GAP_BELOW_MASTHEAD = 4.0
LETTER_NUMBER_GAP = 7 / 8 * BODY_PT * PT  # 7/8 of a 3号 character below the double rule
TITLE_GAP_LINES = 2  # title two blank lines below the last header element


# Seal (印章), GB/T 9704 §7.3.5.1: a round seal over the 署名 and 成文日期, which sit below its centre.
SEAL_DIAMETER = 42.0
SEALED_DATE_RIGHT_CHARS = 4  # the 成文日期 four characters from the right in the sealed layout


def seal_centre(signature_slot: int, date_slot: int, date_x: float, date_w: float) -> tuple[float, float]:
    """Centre (mm from the page's top-left) of the seal pressing the 署名 and the date: centred on the date
    horizontally, vertically at the middle of the 署名 line so that the 署名 and the date lie at or below
    the centre ("居印章中心偏下") and the seal's top stays within a line of the text above it."""
    del date_slot  # the date is the line below the 署名: below the centre by construction
    cx = LEFT + date_x + date_w / 2
    cy = slot_top(signature_slot) + LINE_PITCH / 2
    return cx, cy


def slot_top(index: int) -> float:
    return TOP + index * LINE_PITCH


def em_top_in_slot(index: int, size_pt: float) -> float:
    """Top of the em box of text of ``size_pt`` centred in grid slot ``index``."""
    return slot_top(index) + (LINE_PITCH - size_pt * PT) / 2


def baseline(em_top: float, size_pt: float, descent: float) -> float:
    """Baseline (mm from page top) of text whose em box starts at ``em_top``; descent per 1000 em."""
    return em_top + size_pt * PT * (1 + descent / 1000)


def masthead_size_pt(text: str, max_char_mm: float) -> float:
    """Largest size for the 标志 that fits the 版心 width, at most ``max_char_mm`` per character."""
    per_char = min(max_char_mm, BODY_W / max(len(text), 1))
    return per_char * MM


def title_chars_per_line() -> int:
    return int(BODY_W * MM // TITLE_PT)


def page_number_em_top() -> float:
    return BODY_BOTTOM + PAGE_NUMBER_GAP


def page_number_x(page_no: int, text_width: float) -> float:
    """Odd pages at the right, even pages at the left, each one 4号 character in."""
    inset = PAGE_NUMBER_PT * PT
    if page_no % 2:
        return LEFT + BODY_W - inset - text_width
    return LEFT + inset


@dataclass(frozen=True)
class Rule:
    x: float
    top: float
    width: float
    height: float
    color: tuple = RED


@dataclass(frozen=True)
class Header:
    """Positions of the first-page 版头 and the grid slot where the title (or body) begins."""

    masthead_text: str
    masthead_pt: float
    masthead_top: float
    number_top: float  # em top of the 发文字号 line (3号)
    number_align: str  # center | right
    second_line_top: float | None  # em top of an extra header line (纪要: issuer and date)
    rules: tuple[Rule, ...]
    first_slot: int

    @property
    def masthead_bottom(self) -> float:
        return self.masthead_top + self.masthead_pt * PT


def _first_slot_below(y: float) -> int:
    """The slot that lies two blank lines below ``y`` (rounded to the grid)."""
    return max(0, round((y - TOP) / LINE_PITCH + TITLE_GAP_LINES))


def header(variant: dict, masthead_text: str, extra_lines: int = 0, has_number: bool = True) -> Header:
    """``extra_lines``: header lines below the 发文字号 line (信函格式: 签发人). ``has_number``: False when a
    纪要 has no 期号: its issuer/date line takes the number's line and the red rule follows 4 mm below it."""
    size = masthead_size_pt(masthead_text, variant["masthead_max_char_mm"])
    mtop = variant["masthead_top_mm"] + (0 if variant["masthead_from"] == "page" else TOP)
    mbottom = mtop + size * PT
    body_em = BODY_PT * PT
    rules: list[Rule] = []
    second = None
    if variant["rule"] == "double":
        x = (PAGE_W - LETTER_RULE_LEN) / 2
        r1 = mbottom + LETTER_RULE_GAP_BELOW_MASTHEAD
        rules.append(Rule(x, r1, LETTER_RULE_LEN, LETTER_THICK))
        rules.append(Rule(x, r1 + LETTER_THICK + LETTER_GAP, LETTER_RULE_LEN, LETTER_THIN))
        if variant.get("bottom_rule"):
            bottom = PAGE_H - LETTER_BOTTOM_RULE_FROM_BOTTOM
            rules.append(Rule(x, bottom - LETTER_THICK - LETTER_GAP - LETTER_THIN, LETTER_RULE_LEN, LETTER_THIN))
            rules.append(Rule(x, bottom - LETTER_THICK, LETTER_RULE_LEN, LETTER_THICK))
        number_top = r1 + LETTER_THICK + LETTER_GAP + LETTER_THIN + LETTER_NUMBER_GAP
        last_bottom = number_top + body_em + extra_lines * LINE_PITCH
    else:
        number_top = mbottom + NUMBER_GAP_BELOW_MASTHEAD_LINES * LINE_PITCH + (LINE_PITCH - body_em) / 2
        last_bottom = number_top + body_em
        if variant.get("issuer_date_line"):
            second = number_top + LINE_PITCH if has_number else number_top
            last_bottom = second + body_em
        rule_top = last_bottom + RULE_GAP_BELOW_NUMBER
        rules.append(Rule(LEFT, rule_top, BODY_W, RED_RULE))
        last_bottom = rule_top + RED_RULE
    return Header(masthead_text, size, mtop, number_top, variant["number_align"], second, tuple(rules),
                  _first_slot_below(last_bottom))


def colophon_rules(first_row: int, inner: list[int]) -> list[Rule]:
    """版记 separators: thick above the first row, thin above each slot in ``inner`` (between 版记
    elements), thick on the 版心's bottom edge."""
    black = (0.0, 0.0, 0.0)
    out = [Rule(LEFT, slot_top(first_row), BODY_W, COLOPHON_THICK, black)]
    for r in inner:
        out.append(Rule(LEFT, slot_top(r) - COLOPHON_THIN / 2, BODY_W, COLOPHON_THIN, black))
    out.append(Rule(LEFT, BODY_BOTTOM - COLOPHON_THICK, BODY_W, COLOPHON_THICK, black))
    return out
