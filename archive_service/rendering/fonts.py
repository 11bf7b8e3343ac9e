"""Font roles of GB/T 9704 and the files that play them.

Roles: ``fangsong`` (body, 仿宋), ``title`` (小标宋: title and masthead), ``heiti`` (黑体: level-1
headings, 紧急程度, 出席), ``kaiti`` (楷体: level-2 headings, 签发人's name).

Default faces (``default_files``), best first: the faces ``archive-service fonts build`` made
(``fontbuild``: Noto Serif CJK SC Bold for 小标宋, Noto Sans CJK SC Bold for 黑体, FandolFang for 仿宋
only when opted in) and LXGW WenKai (楷体); where those are missing, Debian's older stand-ins (UMing
for 仿宋 and 小标宋 — the title then drawn slightly bolder —, UKai for 楷体, WenQuanYi Zen Hei for 黑体).
An office points the ARCHIVE_FONT_FANGSONG, …_TITLE, …_HEITI and …_KAITI settings at licensed
TrueType files ("path" or "path#subfont-index" for .ttc); they always win.
A character a face lacks (FandolFang and 仿宋_GB2312 cover GB2312 only: 镕堃喆) is drawn, and
measured, with the fallback face (UMing) instead.
DOCX files name the fonts an office PC has (仿宋_GB2312 …); LibreOffice maps them by fontconfig
(``fontconfig/archive-fonts.conf``).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

ROLES = ("fangsong", "title", "heiti", "kaiti")

#: Debian's older free faces: what renders when nothing better is installed or built
STANDIN_FILES = {
    "fangsong": "/usr/share/fonts/truetype/arphic/uming.ttc#0",
    "title": "/usr/share/fonts/truetype/arphic/uming.ttc#0",
    "heiti": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0",
    "kaiti": "/usr/share/fonts/truetype/arphic/ukai.ttc#0",
}
DEFAULT_FILES = STANDIN_FILES  # the name older code and tests know
#: drawn for characters the role's face lacks
FALLBACK_FILE = "/usr/share/fonts/truetype/arphic/uming.ttc#0"


def default_files(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The best installed face per role: built/installed open faces, else the stand-ins."""
    from .fontbuild import built_faces, cache_dir

    files = dict(STANDIN_FILES)
    for role, path in built_faces(cache_dir(env)).items():
        files[role] = str(path)
    return files

#: Names written into DOCX files (what a government PC has installed).
DOCX_NAMES = {"fangsong": "仿宋_GB2312", "title": "方正小标宋简体", "heiti": "黑体", "kaiti": "楷体_GB2312"}

ENV_NAMES = {"fangsong": "ARCHIVE_FONT_FANGSONG", "title": "ARCHIVE_FONT_TITLE",
             "heiti": "ARCHIVE_FONT_HEITI", "kaiti": "ARCHIVE_FONT_KAITI"}

#: Stand-in fonts are light; the title/masthead role is drawn with a thin outline to look like 小标宋.
FAKE_BOLD_DEFAULT = {"title": 0.035}


@dataclass(frozen=True)
class FontConfig:
    files: dict = field(default_factory=lambda: dict(DEFAULT_FILES))
    docx_names: dict = field(default_factory=lambda: dict(DOCX_NAMES))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FontConfig:
        source = os.environ if env is None else env
        defaults = default_files(source)
        files = {role: (source.get(name) or defaults[role]) for role, name in ENV_NAMES.items()}
        return cls(files=files)

    def fake_bold(self, role: str) -> float:
        """Outline width (in em) used to embolden a stand-in font; 0 for real bold and licensed fonts."""
        if self.files.get(role) == STANDIN_FILES.get(role):
            return FAKE_BOLD_DEFAULT.get(role, 0.0)
        return 0.0


@dataclass(frozen=True)
class Face:
    """A registered reportlab font for one role."""

    role: str
    name: str
    descent: float  # per 1000 units of em, negative
    font: TTFont

    def width(self, text: str, size: float) -> float:
        cmap = self.font.face.charToGlyph
        if all(ord(ch) in cmap for ch in text):
            return self.font.stringWidth(text, size)
        return sum(face.font.stringWidth(run, size) for run, face in self.runs(text))

    def runs(self, text: str) -> list[tuple[str, Face]]:
        """``text`` cut into runs this face draws and runs the fallback face draws (glyphs it lacks)."""
        cmap = self.font.face.charToGlyph
        if all(ord(ch) in cmap for ch in text):
            return [(text, self)]
        fallback = fallback_face()
        out: list[tuple[str, Face]] = []
        for ch in text:
            face = self if ord(ch) in cmap or ch.isspace() else fallback
            if out and out[-1][1] is face:
                out[-1] = (out[-1][0] + ch, face)
            else:
                out.append((ch, face))
        return out


_lock = threading.Lock()
_registered: dict[str, Face] = {}


def _memoize_tables(font: TTFont) -> None:
    """reportlab copies whole tables (a CJK font's glyf is megabytes) out of the file for every subset
    of every document; keep one copy per process instead."""
    original = font.face.get_table
    cache: dict[str, bytes] = {}

    def get_table(tag):
        value = cache.get(tag)
        if value is None:
            value = cache[tag] = original(tag)
        return value

    font.face.get_table = get_table


def _split(spec: str) -> tuple[str, int]:
    path, _, index = spec.partition("#")
    return path, int(index or 0)


def _register(key: str, role: str) -> Face:
    """The registered Face for file spec ``key`` (callers hold ``_lock``)."""
    face = _registered.get(key)
    if face is None:
        path, index = _split(key)
        if not os.path.exists(path):
            raise FileNotFoundError(f"字体文件不存在：{path}（{ENV_NAMES.get(role, role)}）")
        name = f"gb-{role}-{len(_registered)}"
        font = TTFont(name, path, subfontIndex=index)
        _memoize_tables(font)
        pdfmetrics.registerFont(font)
        face = Face(role, name, float(font.face.descent), font)
        _registered[key] = face
    return face


def fallback_face() -> Face:
    """The face for characters a role's face lacks (UMing: GB 18030's common repertoire and Big5)."""
    with _lock:
        return _register(FALLBACK_FILE, "fallback")


def faces(config: FontConfig | None = None, roles: tuple[str, ...] = ROLES) -> dict[str, Face]:
    """Register the role fonts with reportlab (once per process and file) and return them by role.

    ``roles`` limits the work to the roles a caller draws with (a CJK font costs tens of MB)."""
    config = config or FontConfig.from_env()
    out = {}
    with _lock:
        for role in roles:
            # roles sharing a file share one registered font (one subset)
            face = _register(config.files[role], role)
            out[role] = Face(role, face.name, face.descent, face.font)
    return out
