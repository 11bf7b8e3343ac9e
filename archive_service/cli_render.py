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
