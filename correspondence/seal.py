"""Department seals (印章): the image that is the visible appearance of the PAdES signature at 印发.

A seal is a transparent PNG per department: ``ARCHIVE_SEAL_DIR/<部门代码>.png`` when configured (the
county's registered seal images), else ``<instance>/seals/<部门代码>.png``, generated on first use
(and at ``init``): a red ring, a five-pointed star and the department's 全称 on an arc. Generated seals
are DEMO seals — they only look like a seal; the legal effect comes from the signature's certificate.

``check_seal_dir`` runs when a Runtime is built (start-up): every PNG in ``ARCHIVE_SEAL_DIR`` must be a
PNG with transparency and at most 2 MB, else start-up stops naming the file.
"""
from __future__ import annotations

import io
import math
import os
from functools import lru_cache
from pathlib import Path

from archive_service.settings import ConfigError

from .pki import DepartmentLike, check_code, common_name

MAX_SEAL_BYTES = 2 * 1024 * 1024
SEAL_MM = 42.0  # diameter of a round official seal (公章), 42 mm
_PX = 600  # generated image size (about 360 dpi at 42 mm)
RED = (230, 0, 18, 255)


class SealError(ConfigError):
    """A configured seal image cannot be used (the message names the file)."""


def check_seal_image(path: Path) -> None:
    """Refuse anything but a PNG with transparency of at most 2 MB (message names the file)."""
    from PIL import Image

    size = path.stat().st_size
    if size > MAX_SEAL_BYTES:
        raise SealError(f"印章图片过大（{size / 1024 / 1024:.1f} MB，上限 2 MB）：{path}")
    with path.open("rb") as fh:
        if fh.read(8) != b"\x89PNG\r\n\x1a\n":
            raise SealError(f"印章图片须为 PNG 格式：{path}")
    try:
        with Image.open(path) as img:
            img.load()
            has_alpha = img.mode in {"RGBA", "LA"} or (img.mode == "P" and "transparency" in img.info)
            if has_alpha:
                alpha = img.convert("RGBA").getchannel("A")
                extrema = alpha.getextrema()
                # an alpha channel that is opaque everywhere is no transparency
                has_alpha = isinstance(extrema[0], (int, float)) and extrema[0] < 255
    except (OSError, ValueError) as exc:
        raise SealError(f"印章图片无法读取（{exc}）：{path}") from None
    if not has_alpha:
        raise SealError(f"印章图片须为透明背景的 PNG（没有透明像素）：{path}")


def check_seal_dir(settings) -> None:
    """Start-up check of ``ARCHIVE_SEAL_DIR`` (nothing to do when it is not set)."""
    folder = getattr(settings, "seal_dir", None)
    if folder is None:
        return
    folder = Path(folder)
    if not folder.is_dir():
        raise SealError(f"ARCHIVE_SEAL_DIR 不是目录：{folder}")
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() == ".png":
            check_seal_image(path)


class Seals:
    """Where the departments' seal images are: ``ARCHIVE_SEAL_DIR`` first, else generated demo seals in
    ``<instance>/seals/`` (regenerated when the department's 全称 changes)."""

    def __init__(self, instance: Path | str, seal_dir: Path | str | None = None):
        self.instance = Path(instance)
        self.seal_dir = Path(seal_dir) if seal_dir else None

    @classmethod
    def from_settings(cls, settings) -> Seals:
        return cls(settings.instance, getattr(settings, "seal_dir", None))

    def path(self, department: DepartmentLike) -> Path:
        """The department's seal image: the configured one, else the demo seal (generated if missing)."""
        code = check_code(department.code)
        if self.seal_dir is not None and (self.seal_dir / f"{code}.png").is_file():
            return self.seal_dir / f"{code}.png"
        path = self.instance / "seals" / f"{code}.png"
        name = common_name(department)
        marker = path.with_suffix(".name")
        if not path.is_file() or not marker.is_file() or marker.read_text("utf-8") != name:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(generate_seal(name))
            os.replace(tmp, path)
            marker.write_text(name, "utf-8")
        return path

    def ensure(self, departments) -> list[str]:
        """Make every department's seal available (``init``); returns the codes with a generated seal."""
        return [d.code for d in departments if self.path(d).parent != self.seal_dir]


@lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    from .fonts import FontConfig

    path, _, index = FontConfig.from_env().files["heiti"].partition("#")  # the 黑体 role's file
    return ImageFont.truetype(path, size, index=int(index or 0))


def generate_seal(name: str) -> bytes:
    """A demo seal: red ring, star in the middle, ``name`` along the upper arc (transparent PNG)."""
    from PIL import Image, ImageDraw

    n = _PX  # reduced (smoothed) when it is embedded at 印发
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = n / 2
    ring = n * 0.035
    d.ellipse((ring / 2, ring / 2, n - ring / 2, n - ring / 2), outline=RED, width=int(ring))
    r_out, r_in = n * 0.19, n * 0.19 * 0.382
    pts = []
    for i in range(10):
        r = r_out if i % 2 == 0 else r_in
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    d.polygon(pts, fill=RED)
    chars = list(name) or ["印"]
    size = int(n * (0.15 if len(chars) <= 8 else 0.12 if len(chars) <= 12 else 0.095))
    font = _font(size)
    radius = c - ring - size * 0.72
    span = min(math.radians(250), math.radians(21) * len(chars) * size / (n * 0.12))
    for i, ch in enumerate(chars):
        a = -math.pi / 2 - span / 2 + (span * (i + 0.5) / len(chars))
        glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size, size), ch, font=font, fill=RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(a + math.pi / 2), resample=Image.Resampling.BICUBIC)
        x, y = c + radius * math.cos(a), c + radius * math.sin(a)
        img.alpha_composite(glyph, (int(x - size), int(y - size)))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
