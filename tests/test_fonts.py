"""Open 公文 faces (issue 12 part 6): CFF faces converted to TrueType at install time, reproducibly; the
ARCHIVE_FONT_* settings win over them; a character a face lacks is drawn with the fallback face."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pdfplumber
import pytest

from archive_service.rendering.fontbuild import SOURCES, build_face, built_faces
from correspondence.fonts import STANDIN_FILES, FontConfig, faces
from correspondence.render_pdf import render_pdf

DATA = Path(__file__).parent / "data"
SAMPLE = "关于商请协助研究石城县行政审批局函——〔〕2026年"
TITLE = SOURCES[0]   # Noto Serif CJK SC Bold

pytestmark = pytest.mark.skipif(not TITLE.path.exists(), reason="fonts-noto-cjk is not installed")


@pytest.fixture(scope="module")
def small_title(tmp_path_factory):
    """Noto Serif CJK SC Bold cut to SAMPLE, converted (a full GBK build takes 5–35 s: make fonts)."""
    out = tmp_path_factory.mktemp("fonts")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1735689600")
    try:
        return build_face(TITLE, out, [ord(c) for c in SAMPLE])
    finally:
        mp.undo()


def test_converted_face_is_truetype_reproducible_and_usable(small_title, tmp_path, monkeypatch):
    from fontTools.ttLib import TTFont

    font = TTFont(str(small_title))
    assert "glyf" in font and "CFF " not in font and font.sfntVersion == "\x00\x01\x00\x00"
    assert font["name"].getDebugName(4) == "Noto Serif CJK SC Bold"
    assert {ord(c) for c in SAMPLE} <= set(font.getBestCmap())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    again = build_face(TITLE, tmp_path, [ord(c) for c in SAMPLE])
    assert again.read_bytes() == small_title.read_bytes()          # byte-for-byte reproducible
    face = faces(FontConfig(files={**STANDIN_FILES, "title": str(small_title)}), roles=("title",))["title"]
    assert face.width("关于", 22) == 44.0 and "—" in SAMPLE and face.width("—", 16) > 12   # a real dash glyph


def test_built_faces_are_the_default_and_settings_still_win(small_title):
    cache = small_title.parent
    assert built_faces(cache)["title"] == small_title
    default = FontConfig.from_env({"ARCHIVE_FONT_CACHE": str(cache)})
    assert default.files["title"] == str(small_title) and default.fake_bold("title") == 0
    licensed = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0"
    chosen = FontConfig.from_env({"ARCHIVE_FONT_CACHE": str(cache), "ARCHIVE_FONT_TITLE": licensed})
    assert chosen.files["title"] == licensed
    bare = FontConfig.from_env({"ARCHIVE_FONT_CACHE": str(cache / "empty")})
    assert bare.files["title"] == STANDIN_FILES["title"] and bare.fake_bold("title") > 0


def test_a_character_the_face_lacks_is_drawn_with_the_fallback_face(small_title):
    """The small face stands in for a GB2312-only 仿宋 (FandolFang, 仿宋_GB2312): 镕堃喆 are not in it."""
    data = json.loads((DATA / "render_letter.json").read_text(encoding="utf-8"))
    data["body"] = ["关于石城县镕堃喆函。"]
    config = FontConfig(files={**STANDIN_FILES, "fangsong": str(small_title)})
    pdf = render_pdf(data, fonts=config)
    import io

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        chars = [c for c in doc.pages[0].chars if 15.5 < c["size"] < 16.5]
    rong = next(c for c in chars if c["text"] == "镕")
    line = [c for c in chars if abs(c["top"] - rong["top"]) < 1]
    by_text = {c["text"]: c for c in line}
    assert set("镕堃喆关") <= set(by_text), [c["text"] for c in chars]
    assert "NotoSerif" in by_text["关"]["fontname"]
    for ch in "镕堃喆":
        assert "UMing" in by_text[ch]["fontname"], by_text[ch]["fontname"]
    # the fallback characters keep the one-em pitch of the line
    xs = [c["x0"] for c in sorted(line, key=lambda c: c["x0"])]
    steps = {round(b - a, 1) for a, b in itertools.pairwise(xs)}
    assert len(steps) == 1, steps
