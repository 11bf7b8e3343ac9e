"""Rendering benchmark (not part of the test run).

    .venv/bin/python bench/render.py [--runs 200]

Measures, in one run, median and p95 of:
  render_pdf   — a 2-page letter (tests/data/render_letter.json, shortened to two pages);
  render_docx  — the same letter;
  raw reportlab — one A4 page of the same amount of body text with the same embedded CJK fonts,
                  drawn with canvas.drawString (the floor for render_pdf's per-page cost);
  raw python-docx — Document(), A4 section, 20 paragraphs with an East-Asian font, save.
Targets: 2-page letter PDF <= 40 ms; DOCX <= 60 ms.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Mm, Pt  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from correspondence.compose import compose  # noqa: E402
from correspondence.fonts import faces  # noqa: E402
from correspondence.render_docx import render_docx  # noqa: E402
from correspondence.render_pdf import render_pdf  # noqa: E402
from correspondence.spec import parse_spec  # noqa: E402


def two_page_letter() -> dict:
    data = json.loads((ROOT / "tests" / "data" / "render_letter.json").read_text(encoding="utf-8"))
    while len(compose(parse_spec(data)).pages) > 2:
        data["body"] = data["body"][:-2] + data["body"][-1:]
    assert len(compose(parse_spec(data)).pages) == 2
    return data


def raw_reportlab(lines: list[str]) -> bytes:
    f = faces()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(595.27, 841.89), initialFontName=f["fangsong"].name, invariant=1)
    c.setFont(f["fangsong"].name, 16)
    for i, line in enumerate(lines[:22]):
        c.drawString(79.4, 841.89 - 110 - i * 29, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def raw_docx(paras: list[str]) -> bytes:
    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    for text in paras:
        run = d.add_paragraph().add_run(text)
        run.font.size = Pt(16)
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def measure(fn, runs: int) -> tuple[float, float, float]:
    """(median wall ms, p95 wall ms, median CPU ms of this process): CPU time is what to compare on a
    loaded machine."""
    fn()  # warm-up: font registration, imports, the segmenter's dictionary
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    spec = parse_spec(two_page_letter())
    plan = compose(spec)
    lines = [pl.text for page in plan.pages for _s, pl in sorted(page.slots.items()) if pl.text]
    rows = [
        ("render_pdf (2-page letter)", lambda: render_pdf(spec), 40),
        ("raw reportlab (1 page, same fonts)", lambda: raw_reportlab(lines), None),
        ("render_docx (2-page letter)", lambda: render_docx(spec), 60),
        ("raw python-docx (20 paragraphs)", lambda: raw_docx(spec.body + lines[:20 - len(spec.body)]), None),
    ]
    print(f"runs per case: {args.runs}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'case':40s} {'median ms':>10s} {'p95 ms':>10s} {'CPU ms':>8s}  target")
    for name, fn, target in rows:
        med, p95, cpu = measure(fn, args.runs)
        verdict = "" if target is None else (
            f"<= {target} ms: median {'OK' if med <= target else 'MISSED'}, p95 {'OK' if p95 <= target else 'MISSED'}")
        print(f"{name:40s} {med:10.1f} {p95:10.1f} {cpu:8.1f}  {verdict}")


if __name__ == "__main__":
    main()
