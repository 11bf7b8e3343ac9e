"""联合发文 (GB/T 9704 7.3.5.1): each issuing organ's seal, one to one over its 署名 in order, seals in a row
neither crossing nor touching and within the 版心, the last one over the last 署名 and the 成文日期; each seal
is the visible appearance of that organ's own signature, whose /Name is the person who approved for it."""
from __future__ import annotations

import io

import pdfplumber

from letters_support import draft, signed_off

MM = 72 / 25.4


def test_a_joint_letter_carries_each_co_issuers_seal_over_its_name(clients, rt):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from correspondence.pki import key_source
    from correspondence.signing import verify_pdf

    letter = draft(clients, co_issuers=["县市场监督管理局"], to=["县住房和城乡建设局"], cc=[])
    chain = (("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意"),
             ("scjg_leader", "sign", "会签同意"), ("clerk", "recheck", ""), ("clerk", "register", ""),
             ("clerk", "issue", ""))
    issued = signed_off(clients, letter, chain)
    client, headers = clients("drafter")
    data = client.get(f"/api/v1/letters/{issued['id']}/files/pdf", headers=headers).data
    sigs = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert len(sigs) == 2 and sigs[0].sig_object["/Name"] == "局长李明"
    report = verify_pdf(data, key_source(rt.settings).trust_roots())
    assert report.ok, report.to_dict()
    assert [s.department_code for s in report.signatures] == ["SPJ", "SCJG"]
    co_signer = report.signatures[1].signer_name
    assert co_signer and co_signer != "局长李明"  # the regulator's head who countersigned (会签)
    rects = []
    for s in sigs:
        annot = s.sig_field["/Kids"][0] if "/Kids" in s.sig_field else s.sig_field
        rects.append(tuple(float(v) for v in annot["/Rect"]))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[-1]
        words = [w for w in page.extract_words() if w["top"] > 200]
        left, right = 28 * MM, page.width - 26 * MM
    names = [next(w for w in words if w["text"].endswith(n)) for n in ("行政审批局", "市场监督管理局")]
    date = next(w for w in words if w["text"].endswith("日") and "年" in w["text"])
    centres = []
    for (x1, y1, x2, y2), name in zip(rects, names, strict=True):
        assert round((x2 - x1) / MM) == 42
        top, bottom, cx = page.height - y2, page.height - y1, (x1 + x2) / 2
        centres.append((cx, (top + bottom) / 2))
        assert abs((name["x0"] + name["x1"]) / 2 - cx) < 3 * MM, (name, cx)  # centred on its own 署名
        assert top < name["top"] and name["bottom"] < bottom  # pressing it
        assert left <= x1 and x2 <= right  # within the 版心
    (ax, ay), (bx, by) = centres
    assert ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 > 42 * MM  # seals neither cross nor touch
    x1, y1, x2, y2 = rects[-1]  # the last seal presses the last 署名 and the 成文日期
    assert x1 < date["x0"] and date["x1"] < x2 and page.height - y2 < date["top"] < page.height - y1
