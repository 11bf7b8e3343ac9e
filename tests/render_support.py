"""Helpers for the rendering tests: fixtures specs and reading rendered PDFs back with pdfplumber."""
from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path

import pdfplumber

DATA = Path(__file__).resolve().parent / "data"
MM = 72 / 25.4


def spec(name: str) -> dict:
    return json.loads((DATA / f"render_{name}.json").read_text(encoding="utf-8"))


def pdf_pages(content: bytes):
    pdf = pdfplumber.open(io.BytesIO(content))
    return pdf, pdf.pages


def lines(page, min_size=0.0, max_size=100.0) -> list[tuple[float, list[dict]]]:
    """Characters grouped into lines by their top (in mm), each sorted left to right."""
    groups = defaultdict(list)
    for ch in page.chars:
        if min_size <= ch["size"] <= max_size and ch["text"].strip():
            groups[round(ch["top"] / MM, 1)].append(ch)
    merged: list[tuple[float, list[dict]]] = []
    for top in sorted(groups):
        if merged and abs(merged[-1][0] - top) < 0.5:
            merged[-1][1].extend(groups[top])
        else:
            merged.append((top, list(groups[top])))
    return [(top, sorted(chs, key=lambda c: c["x0"])) for top, chs in merged]


def text_of(chs: list[dict]) -> str:
    return "".join(c["text"] for c in chs)
