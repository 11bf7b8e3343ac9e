"""`archive-service render SPEC.json --out FILE.pdf|FILE.docx`: render a preview without saving anything."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("render")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件，.pdf 或 .docx")
def render(spec_file: Path, out: Path) -> None:
    """按渲染规格（JSON）生成 GB/T 9704 格式的 PDF 或 DOCX。"""
    from correspondence.render_docx import render_docx
    from correspondence.render_pdf import render_pdf
    from correspondence.spec import SpecError, parse_spec

    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".docx"):
        raise click.UsageError("--out 须以 .pdf 或 .docx 结尾")
    try:
        data = json.loads(spec_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise click.ClickException(f"不是有效的 JSON：{exc}") from None
    try:
        spec = parse_spec(data)
    except SpecError as exc:
        raise click.ClickException(f"渲染规格错误（字段 {exc.field}）：{exc.message}") from None
    content = render_pdf(spec) if suffix == ".pdf" else render_docx(spec)
    out.write_bytes(content)
    click.echo(f"{out}（{len(content)} 字节）")


@click.group("fonts")
def fonts() -> None:
    """公文字体：构建与查看默认字体。"""


@fonts.command("build")
@click.option("--fandol", is_flag=True, help="同时构建 FandolFang 仿宋（许可有争议，须自行确认，见 README）")
@click.option("--fandol-from", "fandol_from", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="FandolFang-Regular.otf 所在目录（make fonts-fandol 从 texlive-lang-chinese 包中解出）")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="输出目录（默认 ARCHIVE_FONT_CACHE 或 ~/.cache/archive-service/fonts）")
def fonts_build(fandol: bool, fandol_from: Path | None, out: Path | None) -> None:
    """把 Noto Serif/Sans CJK SC（CFF）裁成 GBK 字符集并转换为 TrueType，供 PDF 渲染使用（已有则跳过）。"""
    from .rendering.fontbuild import build_all

    build_all(out, fandol=fandol, fandol_dir=fandol_from, log=click.echo)


@fonts.command("list")
def fonts_list() -> None:
    """列出每个字体角色当前使用的字体文件。"""
    from .rendering.fonts import FontConfig

    for role, path in FontConfig.from_env().files.items():
        click.echo(f"{role}\t{path}")
