"""Sign and verify time per PDF (PAdES B-B, local CA, ECDSA P-256): `.venv/bin/python bench/signing.py [N]`."""
from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from correspondence.pki import LocalKeys
from correspondence.signing import sign_pdf, verify_pdf


def letter(pages: int = 2) -> bytes:
    pdfmetrics.registerFont(TTFont("UMingBench", "/usr/share/fonts/truetype/arphic/uming.ttc", subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for p in range(pages):
        c.setFont("UMingBench", 16)
        for line in range(22):
            c.drawString(80, 760 - line * 28, "县行政审批局关于征求审管联动工作意见的函，请于三个工作日内反馈。"[: 28])
        c.drawString(280, 40, f"— {p + 1} —")
        c.showPage()
    c.save()
    return buf.getvalue()


def stats(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    print(f"{name:8s} n={len(ms)}  median {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  max {ms[-1]:6.1f} ms")


def main(n: int = 100) -> None:
    pdf = letter()
    dept = SimpleNamespace(name="县行政审批局", code="SPJ")
    with tempfile.TemporaryDirectory() as tmp:
        keys = LocalKeys(tmp)
        t = time.perf_counter()
        signed = sign_pdf(pdf, dept, signer_name="局长李明", keys=keys)
        print(f"first signature incl. CA + department certificate: {(time.perf_counter() - t) * 1000:.1f} ms")
        roots = keys.trust_roots()
        sign_t, verify_t = [], []
        for _ in range(n):
            t = time.perf_counter()
            signed = sign_pdf(pdf, dept, signer_name="局长李明", keys=keys)
            sign_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = verify_pdf(signed, roots)
            verify_t.append(time.perf_counter() - t)
            assert report.ok
        print(f"PDF {len(pdf)} bytes → signed {len(signed)} bytes")
        stats("sign", sign_t)
        stats("verify", verify_t)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
