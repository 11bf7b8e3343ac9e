"""Scan-like pages rendered from corpus text (tests/test_ocr.py and bench/ocr.py).

A4 at 200 or 300 dpi, UMing 16 pt (28 characters a line), grey paper, a small rotation, blur,
salt-and-pepper noise, JPEG. Everything comes from one seeded ``random.Random``: the same seed gives
the same pages.
"""
from __future__ import annotations

import gzip
import io
import json
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_CORPUS = HERE.parents[1] / "shared" / "corpus" / "articles.jsonl.gz"
SAMPLE_CORPUS = HERE / "data" / "articles-sample.jsonl.gz"
FONT = "/usr/share/fonts/truetype/arphic/uming.ttc"
CHARS_PER_LINE = 28
WORD = re.compile(r"[\w]+")  # letters, digits and Han characters (after NFKC)

QUALITY = {  # blur radius, share of noise pixels, JPEG quality, rotation in degrees
    "clean": (0.0, 0.0, 92, 0.0),
    "scan": (0.6, 0.003, 60, 0.8),
    "poor": (1.0, 0.01, 40, 0.8),
}


def corpus_path() -> Path:
    """The shared corpus when it is there (../shared/corpus), else the small sample shipped in tests/data."""
    return SHARED_CORPUS if SHARED_CORPUS.exists() else SAMPLE_CORPUS


def articles(n: int, seed: int, path: Path | None = None, skip: int = 0) -> list[dict]:
    """``n`` articles with a body of 60–400 characters, chosen by ``seed`` among the first 2,000."""
    pool = []
    with gzip.open(path or corpus_path(), "rt", encoding="utf-8") as fh:
        for line in fh:
            art = json.loads(line)
            if 60 <= len(art["body"]) <= 400:
                pool.append(art)
            if len(pool) >= 2000:
                break
    rng = random.Random(seed)
    rng.shuffle(pool)
    return pool[skip:skip + n]


@dataclass
class ScanPage:
    image: bytes            # JPEG
    text: str               # what was drawn, one paragraph per article (no wraps)
    dpi: int


def _wrap(paragraph: str) -> list[str]:
    return [paragraph[i:i + CHARS_PER_LINE] for i in range(0, len(paragraph), CHARS_PER_LINE)] or [""]


def render(paragraphs: list[str], dpi: int = 200, quality: str = "scan", seed: int = 0,
           max_lines: int = 26) -> tuple[ScanPage, list[str]]:
    """Draw paragraphs onto one page; returns the page and the paragraphs that did not fit."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed)
    blur, noise, jpeg_q, rotation = QUALITY[quality]
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    size = round(16 / 72 * dpi)
    font = ImageFont.truetype(FONT, size)
    paper = 235 if quality != "clean" else 255
    img = Image.new("L", (w, h), paper)
    draw = ImageDraw.Draw(img)
    left, top, step = round(1.1 * dpi), round(1.2 * dpi), round(size * 1.5)
    drawn, rest, n = [], list(paragraphs), 0
    while rest:
        lines = _wrap(rest[0])
        if n + len(lines) > max_lines:
            if n:
                break
            # A paragraph longer than a whole page: draw what fits, carry the rest to the next page.
            split = max_lines * CHARS_PER_LINE
            rest[0:1] = [rest[0][:split], rest[0][split:]]
            continue
        for line in lines:
            draw.text((left, top + n * step), line, font=font, fill=25)
            n += 1
        drawn.append(rest.pop(0))
    if rotation:
        img = img.rotate(rng.uniform(-rotation, rotation), resample=Image.BICUBIC, fillcolor=paper)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        px = img.load()
        for _ in range(int(w * h * noise)):
            px[rng.randrange(w), rng.randrange(h)] = 0 if rng.random() < 0.5 else 255
    out = io.BytesIO()
    img.save(out, "JPEG", quality=jpeg_q, dpi=(dpi, dpi))
    return ScanPage(out.getvalue(), "\n".join(drawn), dpi), rest


def pages_from_corpus(n_pages: int, seed: int, dpi: int = 200, quality: str = "scan",
                      max_lines: int = 26, corpus: Path | None = None) -> list[ScanPage]:
    arts = articles(n_pages * 8, seed, corpus)
    paragraphs = [f"{a['title']}　{a['body']}".replace("\n", "") for a in arts]
    pages = []
    for i in range(n_pages):
        page, paragraphs = render(paragraphs, dpi, quality, seed + i, max_lines)
        pages.append(page)
    return pages


def pdf_of(pages: list[ScanPage]) -> bytes:
    """The pages as one image-only PDF (what a scanner writes)."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p.image)).convert("L") for p in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=pages[0].dpi)
    return out.getvalue()


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def windows(text: str, n: int = 4) -> list[str]:
    """Every ``n``-character window inside a run of letters, digits and Han characters (NFKC)."""
    out = []
    for run in WORD.findall(fold(text)):
        out.extend(run[i:i + n] for i in range(len(run) - n + 1))
    return out


def recall(reference: str, ocr_text: str, n: int = 4) -> float:
    ws = windows(reference, n)
    got = fold(ocr_text)
    return sum(1 for w in ws if w in got) / max(1, len(ws))


def han_errors(reference: str, ocr_text: str) -> int:
    """Chinese-character edit distance between what was drawn and what was read (Han only)."""
    a = [c for c in fold(reference) if "\u4e00" <= c <= "\u9fff"]
    b = [c for c in fold(ocr_text) if "\u4e00" <= c <= "\u9fff"]
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]
