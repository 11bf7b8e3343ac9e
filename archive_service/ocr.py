"""OCR engines for the extraction sandbox: RapidOCR (PP-OCR models, ONNX) by default, Tesseract as fallback.

Runs only inside the sandbox child (``archive_service.sandbox``). ``read_page(engine, image)`` returns
an ``OcrPage``: the recognised lines with their boxes, in reading order, and the page text.

- **RapidOCR** (``rapidocr`` 3.x with ``onnxruntime``): the detection and recognition models ship in
  the wheel and run offline. Never change model type, version or language: a model that is not in
  the wheel would be downloaded (and fail offline). ``use_cls=False`` (the 180° classifier garbled
  clean lines), ``max_side_len`` 1600, one ONNX thread. Needs ``RAPIDOCR_MIN_MEMORY_MB`` of address
  space; with a smaller sandbox budget Tesseract is used instead.
- **Tesseract** ``chi_sim`` (TSV output for the boxes); the spaces it puts between Han characters
  are removed.

Reading order: horizontal lines top to bottom, left to right within a row; when most lines are
vertical, columns right to left, each top to bottom. Lines are joined without any separator where
both sides are Chinese (a wrapped sentence stays one string for search), with a space between Latin
words and a line break after sentence-ending punctuation.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

ENGINES = ("rapidocr", "tesseract", "off")
RAPIDOCR_MIN_MEMORY_MB = 1200  # address space a page needs (measured: VmPeak ≈ 1.0 GB on an A4 page at 200 dpi)
RAPIDOCR_PARAMS = {
    "Global.use_cls": False,
    "Global.max_side_len": 1600,
    "Global.log_level": "warning",
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}
SMOKE_TEXT = "石城县档案馆"
_SMOKE_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/arphic/uming.ttc",
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_ENDS_PARAGRAPH = set("。！？；：!?;:…")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_HAN_SPACES = re.compile(f"(?<=[{_HAN}])[ \t]+(?=[{_HAN}])")


def choose_engine(requested: str, memory_mb: int) -> str:
    """The engine to use: ``requested``, except RapidOCR falls back to Tesseract below its memory need."""
    if requested not in ENGINES:
        raise ValueError(f"ARCHIVE_OCR_ENGINE 应为 {'、'.join(ENGINES)} 之一，而不是 {requested!r}")
    if requested == "rapidocr" and memory_mb < RAPIDOCR_MIN_MEMORY_MB:
        return "tesseract"
    return requested


@dataclass
class OcrLine:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def vertical(self) -> bool:
        return len(self.text) >= 2 and (self.y1 - self.y0) > 1.5 * (self.x1 - self.x0)

    def to_json(self) -> list:
        return [self.text, round(self.x0, 1), round(self.y0, 1), round(self.x1, 1), round(self.y1, 1)]


@dataclass
class OcrPage:
    width: int
    height: int
    lines: list[OcrLine] = field(default_factory=list)  # in reading order

    @property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines])

    def to_json(self) -> dict:
        return {"width": self.width, "height": self.height, "lines": [line.to_json() for line in self.lines]}

    @classmethod
    def from_json(cls, data: dict) -> OcrPage:
        return cls(int(data["width"]), int(data["height"]),
                   [OcrLine(str(t), float(a), float(b), float(c), float(d)) for t, a, b, c, d in data["lines"]])



def join_lines(texts: list[str]) -> str:
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if not out:
            out = t
            continue
        a, b = out[-1], t[0]
        if a in _ENDS_PARAGRAPH:
            sep = "\n"
        elif a.isascii() and b.isascii() and a.isalnum() and b.isalnum():
            sep = " "
        else:
            sep = ""  # Chinese on either side: a wrapped line continues the sentence
        out += sep + t
    return out


def order_lines(lines: list[OcrLine]) -> list[OcrLine]:
    """Reading order: rows top to bottom (left to right inside a row); vertical text right to left."""
    if not lines:
        return []
    vertical = sum(1 for line in lines if line.vertical) > len(lines) / 2
    if vertical:  # columns: group by horizontal overlap, right to left, each top to bottom
        groups = _group(lines, lambda line: (line.x0, line.x1), reverse=True)
        return [line for g in groups for line in sorted(g, key=lambda line: line.y0)]
    groups = _group(lines, lambda line: (line.y0, line.y1), reverse=False)
    return [line for g in groups for line in sorted(g, key=lambda line: line.x0)]


def _group(lines, span, reverse: bool) -> list[list[OcrLine]]:
    """Bands of lines whose spans overlap by at least half the smaller extent, in band order."""
    ordered = sorted(lines, key=lambda line: (span(line)[0] + span(line)[1]) / 2, reverse=reverse)
    bands: list[tuple[float, float, list[OcrLine]]] = []
    for line in ordered:
        lo, hi = span(line)
        if bands:
            blo, bhi, members = bands[-1]
            overlap = min(hi, bhi) - max(lo, blo)
            if overlap >= 0.5 * min(hi - lo, bhi - blo):
                bands[-1] = (min(lo, blo), max(hi, bhi), [*members, line])
                continue
        bands.append((lo, hi, [line]))
    return [members for _lo, _hi, members in bands]


class RapidEngine:
    name = "rapidocr"

    def __init__(self):
        self._engine = None

    def _load(self):
        if self._engine is None:
            from rapidocr import RapidOCR

            self._engine = RapidOCR(params=dict(RAPIDOCR_PARAMS))
        return self._engine

    def read(self, image) -> list[OcrLine]:
        import numpy as np

        result = self._load()(np.asarray(image.convert("RGB")))
        if result.boxes is None or result.txts is None:
            return []
        lines = []
        for box, text in zip(result.boxes, result.txts, strict=False):
            xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
            if text and text.strip():
                lines.append(OcrLine(text.strip(), min(xs), min(ys), max(xs), max(ys)))
        return lines


# Tesseract's OpenMP threads spin-wait for each other: with another process on the second core a page
# took 8.0 s instead of 1.65 s with one thread (the worker runs one OCR child per core anyway).
ONE_THREAD = {"OMP_THREAD_LIMIT": "1"}


class TesseractEngine:
    name = "tesseract"

    def read(self, image) -> list[OcrLine]:
        if shutil.which("tesseract") is None:
            raise RuntimeError("未安装 Tesseract OCR（tesseract-ocr、tesseract-ocr-chi-sim）")
        with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
            path = Path(tmp) / "page.png"
            image.convert("L").save(path)
            lines: list[OcrLine] = []
            for psm in ("6", "3"):  # one uniform block (best measured on scans); automatic layout if empty
                proc = subprocess.run(["tesseract", str(path), "stdout", "-l", "chi_sim", "--psm", psm, "tsv"],
                                      capture_output=True, env={**os.environ, **ONE_THREAD})
                if proc.returncode != 0:
                    raise RuntimeError("OCR 失败：" + proc.stderr.decode("utf-8", "replace")[-300:])
                lines = _tsv_lines(proc.stdout.decode("utf-8", "replace"))
                if lines:
                    break
        return lines


def _tsv_lines(tsv: str) -> list[OcrLine]:
    words: dict[tuple, list] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        left, top, width, height = (int(c) for c in cols[6:10])
        words.setdefault(key, []).append((cols[11].strip(), left, top, left + width, top + height))
    lines = []
    for ws in words.values():
        text = _HAN_SPACES.sub("", " ".join(w[0] for w in ws)).strip()
        if text:
            lines.append(OcrLine(text, min(w[1] for w in ws), min(w[2] for w in ws),
                                 max(w[3] for w in ws), max(w[4] for w in ws)))
    return lines


def make_engine(name: str):
    if name == "rapidocr":
        return RapidEngine()
    if name == "tesseract":
        return TesseractEngine()
    raise ValueError(name)


def read_page(engine, image) -> OcrPage:
    return OcrPage(image.width, image.height, order_lines(engine.read(image)))


def smoke(engine) -> str:
    """OCR one generated line; raises unless the engine reads it (a broken install fails loudly)."""
    from PIL import Image, ImageDraw, ImageFont

    font = next((f for f in _SMOKE_FONTS if Path(f).exists()), None)
    img = Image.new("L", (640, 140), 255)
    if font is None:  # no CJK font to draw with: at least load and run the engine
        engine.read(img)
        return ""
    ImageDraw.Draw(img).text((40, 30), SMOKE_TEXT, font=ImageFont.truetype(font, 64), fill=0)
    text = read_page(engine, img).text
    if SMOKE_TEXT not in text:
        raise RuntimeError(f"OCR 自检失败（{engine.name}）：应识别出“{SMOKE_TEXT}”，实际为“{text}”")
    return text
