"""Issue 7 finding 7: user text in the 公文处理单 is text, never reportlab markup."""
import io

import pdfplumber
from PIL import Image

from letters_support import act, draft, signed_off


def test_markup_in_title_and_opinion_prints_literally(clients, tmp_path):
    png = tmp_path / "secret.png"
    Image.new("RGB", (40, 40), "red").save(png)
    tag = f'<img src="{png}" width="40" height="40"/>'
    letter = draft(clients, title=f"关于A<B及{tag}的函")
    chain = (("drafter", "submit", ""), ("reviewer", "pass", f"意见{tag}&amp;"), ("signer", "sign", "同意<b>印发</b>"),
             ("clerk", "recheck", ""), ("clerk", "register", ""))
    letter = signed_off(clients, letter, chain)
    resp = act(clients, "clerk", letter, "issue")
    assert resp.status_code == 200, resp.get_json()
    client, headers = clients("drafter")
    sheet = client.get(f"/api/v1/letters/{letter['id']}/files/sheet", headers=headers)
    assert sheet.status_code == 200
    with pdfplumber.open(io.BytesIO(sheet.data)) as pdf:
        text = "".join(p.extract_text() or "" for p in pdf.pages).replace("\n", "")
        images = [im for p in pdf.pages for im in p.images]
    assert images == []  # the local file was not embedded
    assert "A<B" in text and "<img" in text and "同意<b>印发</b>" in text and "&amp;" in text
