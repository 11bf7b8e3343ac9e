"""Build the default 公文 faces at install time: open CFF fonts converted to TrueType for reportlab.

reportlab refuses CFF (PostScript) outlines, and the open faces that suit 公文 best ship as CFF:
Noto Serif CJK SC Bold (a 小标宋-like title and masthead face) and Noto Sans CJK SC (黑体). Each is cut
to the GBK repertoire (plus a few marks) and its cubic outlines converted to quadratic TrueType
outlines with fontTools' cu2qu; LXGW WenKai (楷体) is TrueType already and used as it is. The result is
cached in ``ARCHIVE_FONT_CACHE`` (default ``~/.cache/archive-service/fonts``) and rebuilt only when
missing; with ``SOURCE_DATE_EPOCH`` set, the build is byte-for-byte reproducible.

    archive-service fonts build            # `make run` and `make test` do this
    archive-service fonts build --fandol   # opt-in FandolFang 仿宋 (see README: licence)
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")


@dataclass(frozen=True)
class Source:
    role: str
    path: Path
    family: str        # the name table's full name of the member to take from a collection
    output: str        # file name in the cache


SOURCES = (
    Source("title", NOTO_DIR / "NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC Bold", "NotoSerifCJKsc-Bold-GBK.ttf"),
    Source("heiti", NOTO_DIR / "NotoSansCJK-Bold.ttc", "Noto Sans CJK SC Bold", "NotoSansCJKsc-Bold-GBK.ttf"),
)

#: TrueType faces used directly (no conversion)
DIRECT = {"kaiti": Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")}

#: FandolFang (仿宋) from TeX Live, OpenType CFF too; converted only with ``--fandol`` (see README)
FANDOL = Source("fangsong", Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/FandolFang-Regular.otf"),
                "FandolFang Regular", "FandolFang-Regular-GBK.ttf")


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    source: Mapping[str, str] = os.environ if env is None else env
    if source.get("ARCHIVE_FONT_CACHE"):
        return Path(source["ARCHIVE_FONT_CACHE"])
    base = Path(source.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "archive-service" / "fonts"


def gbk_codepoints() -> list[int]:
    """Every character GBK encodes, plus the marks 公文 use outside it (〇 is in GBK)."""
    out = []
    for cp in range(0x20, 0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        try:
            chr(cp).encode("gbk")
        except UnicodeEncodeError:
            continue
        out.append(cp)
    return out


def _member(path: Path, family: str):
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() == ".ttc":
        for i in range(len(TTCollection(str(path), lazy=True).fonts)):
            if TTFont(str(path), fontNumber=i, lazy=True)["name"].getDebugName(4) == family:
                return TTFont(str(path), fontNumber=i, recalcTimestamp=False)
        raise LookupError(f"{path} has no member named {family}")
    return TTFont(str(path), recalcTimestamp=False)


def cff_to_truetype(font, max_err: float = 1.0) -> None:
    """Replace the font's CFF outlines by TrueType ones (cu2qu), in place."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["post"].formatType = 3.0
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def build_face(src: Source, out_dir: Path, codepoints: list[int] | None = None) -> Path:
    """Subset ``src`` to GBK (or ``codepoints``), convert to TrueType, write it to ``out_dir``."""
    from fontTools import subset

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its INFO lists every glyph kept (megabytes)
    font = _member(src.path, src.family)
    options = subset.Options()
    options.layout_features = []          # horizontal 公文 text needs no OpenType layout
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True
    options.hinting = False
    sub = subset.Subsetter(options)
    sub.populate(unicodes=codepoints if codepoints is not None else gbk_codepoints())
    sub.subset(font)
    cff_to_truetype(font)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:   # reproducible: head.modified from the epoch (fontTools counts from 1904)
        font["head"].modified = int(epoch) + 2082844800
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / src.output
    tmp = target.with_suffix(".tmp")
    font.save(str(tmp), reorderTables=True)
    tmp.replace(target)
    return target


def built_faces(out_dir: Path | None = None) -> dict[str, Path]:
    """The role files that exist: converted faces in the cache and the direct TrueType faces."""
    out_dir = out_dir or cache_dir()
    found = {s.role: out_dir / s.output for s in (*SOURCES, FANDOL) if (out_dir / s.output).exists()}
    found.update({role: p for role, p in DIRECT.items() if p.exists()})
    return found


def build_all(out_dir: Path | None = None, fandol: bool = False, fandol_dir: Path | None = None,
              log=print) -> dict[str, Path]:
    """Build what is missing (sources that are not installed are skipped with a note)."""
    out_dir = out_dir or cache_dir()
    fandol_src = FANDOL if fandol_dir is None else Source(
        FANDOL.role, Path(fandol_dir) / FANDOL.path.name, FANDOL.family, FANDOL.output)
    for src in (*SOURCES, *((fandol_src,) if fandol else ())):
        target = out_dir / src.output
        if target.exists():
            log(f"{src.role}: {target} (cached)")
        elif not src.path.exists():
            log(f"{src.role}: {src.path} is not installed; skipped")
        else:
            t0 = time.monotonic()
            build_face(src, out_dir)
            log(f"{src.role}: {target} built in {time.monotonic() - t0:.1f} s")
    return built_faces(out_dir)
