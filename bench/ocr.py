"""OCR benchmark: RapidOCR vs Tesseract on scan-like pages rendered from corpus text.

    .venv/bin/python bench/ocr.py [--pages 1] [--engines rapidocr,tesseract] [--seed 20261201]

For each engine, quality (clean, scan, poor scan) and resolution (200, 300 dpi) it renders
``--pages`` A4 pages (tests/scan_pages.py: UMing 16 pt, grey paper, rotation, blur, noise, JPEG),
OCRs them through the extraction sandbox as the worker does, and prints Chinese-character errors
(edit distance over Han characters), 4-character-window recall (NFKC, letters/digits/Han runs),
seconds per page (after the engine's smoke page, so model loading is not counted) and the peak RSS
of the sandbox child (or the tesseract it ran). Uses ../shared/corpus when present, else the sample
in tests/data. Keep --pages small on a shared machine: RapidOCR takes seconds per page.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from archive_service.extract import Limits  # noqa: E402
from archive_service.sandbox import Sandbox  # noqa: E402
from scan_pages import corpus_path, han_errors, pages_from_corpus, recall  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1, help="pages per quality and resolution")
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--dpi", default="200,300")
    ap.add_argument("--qualities", default="clean,scan,poor")
    ap.add_argument("--corpus", type=Path, help="articles JSON Lines (default ../shared/corpus, else tests/data)")
    args = ap.parse_args()
    corpus = args.corpus or corpus_path()
    print(f"corpus: {corpus}; {args.pages} page(s) per cell", flush=True)
    sets = {}
    for q in args.qualities.split(","):
        for dpi in (int(d) for d in args.dpi.split(",")):
            sets[(q, dpi)] = pages_from_corpus(args.pages, args.seed, dpi=dpi, quality=q, corpus=corpus)
    print(f"\n{'engine':10} {'quality':7} {'dpi':>4} {'pages':>5} {'Han chars':>9} {'Han errors':>10} "
          f"{'4-char recall':>13} {'s/page':>7} {'peak RSS':>9}")
    for engine in args.engines.split(","):
        box = Sandbox(Limits(ocr_engine=engine, memory_mb=1536 if engine == "rapidocr" else 1024,
                             wall_seconds=600, cpu_seconds=600))
        try:
            box.check_ocr()
            for (q, dpi), pages in sets.items():
                errors = chars = 0
                recalls, seconds = [], 0.0
                for page in pages:
                    t = time.perf_counter()
                    result = box.extract(page.image, "image/jpeg", "page.jpg")
                    seconds += time.perf_counter() - t
                    errors += han_errors(page.text, result.text)
                    chars += sum(1 for c in page.text if "\u4e00" <= c <= "\u9fff")
                    recalls.append(recall(page.text, result.text))
                print(f"{engine:10} {q:7} {dpi:>4} {len(pages):>5} {chars:>9} {errors:>10} "
                      f"{sum(recalls) / len(recalls):>13.4f} {seconds / len(pages):>7.2f} "
                      f"{box.peak_rss / 2**20:>7.0f} MB", flush=True)
        finally:
            box.close()


if __name__ == "__main__":
    main()
