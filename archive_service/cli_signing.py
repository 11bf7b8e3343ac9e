"""`archive-service verify-pdf FILE`, and the signing part of `init` (the local CA and department certs)."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click


def init_signing(rt) -> None:
    """Called by `init`: local CA + one certificate per department, or a check of the PKCS#12 folder."""
    from sqlalchemy import select

    from correspondence.pki import Pkcs12Keys, ensure_pki, key_source
    from correspondence.seal import Seals

    from .errors import DomainError
    from .models import Department

    with rt.factory() as session:
        departments = list(session.scalars(select(Department).order_by(Department.code)))
    keys = key_source(rt.settings)
    generated = Seals.from_settings(rt.settings).ensure(departments)
    click.echo(f"seals: {len(departments) - len(generated)} configured in ARCHIVE_SEAL_DIR, "
               f"{len(generated)} demo seal(s) in {rt.settings.instance / 'seals'}")
    if isinstance(keys, Pkcs12Keys):
        missing = keys.missing(departments)
        click.echo(f"signing keys: PKCS#12 files in {keys.folder}"
                   + (f"; missing for: {', '.join(missing)}" if missing else ""))
        return
    try:
        result = ensure_pki(rt.settings.instance, departments)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"signing PKI: {keys.instance_dir / 'pki'} (CA {'created' if result.ca_created else 'present'}; "
               f"{len(result.issued)} certificate(s) issued, {len(result.present)} present)")


@click.command("verify-pdf")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Trust these root certificates (PEM) instead of the configured ones.")
def verify_pdf_command(file: Path, trust: tuple[Path, ...]) -> None:
    """Verify the signatures of a PDF: signer, time, integrity, trust. Exit 1 unless all are valid."""
    from correspondence.pki import ca_cert_path, key_source, load_certificates
    from correspondence.signing import verify_pdf

    from .errors import DomainError
    from .settings import Settings

    root = click.get_current_context().find_root()
    if not root.params.get("verbose"):
        logging.getLogger("pyhanko").setLevel(logging.ERROR)  # path-building tracebacks are noise here
        logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)
    if trust:
        roots = [c for path in trust for c in load_certificates(path)]
        trust_note = "、".join(str(p) for p in trust) + "（--trust）"
    else:  # read only: never create an instance (nor its secret_key) just to verify a file
        settings = Settings.from_env(read_only=True)
        roots = key_source(settings).trust_roots()
        trust_note = _trust_note(settings, ca_cert_path(settings.instance))
    try:
        with file.open("rb") as fh:
            report = verify_pdf(fh, roots)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"文件：{file}")
    click.echo(f"信任根：{trust_note}")
    if not report.signed:
        click.echo("结果：此 PDF 文件没有电子签名")
        sys.exit(1)
    yes_no = {True: "是", False: "否"}
    for n, s in enumerate(report.signatures, 1):
        click.echo(f"签名 {n}（{s.field_name}）")
        click.echo(f"  签名单位：{s.department or '未知'}" + (f"（{s.department_code}）" if s.department_code else ""))
        click.echo(f"  签名人：{s.signer_name or '未注明'}")
        click.echo(f"  签名时间：{s.to_dict()['signing_time_local'] or '未注明'}（北京时间）")
        click.echo(f"  事由：{s.reason or '—'}；地点：{s.location or '—'}")
        click.echo(f"  证书颁发者：{s.issuer or '未知'}")
        click.echo(f"  完整（未被篡改）：{yes_no[s.intact]}；签名值有效：{yes_no[s.valid]}；"
                   f"证书受信任：{yes_no[s.trusted]}")
    click.echo(f"结果：{report.summary}")
    if not report.ok:
        sys.exit(1)


def _trust_note(settings, ca_path: Path) -> str:
    """Which roots a verification trusts, in words (the instance's local CA and/or the configured PEM)."""
    parts = []
    if ca_path.is_file():
        parts.append(f"实例 {settings.instance} 的本地 CA（{ca_path}）")
    if settings.signing_trust_roots:
        parts.append(f"ARCHIVE_SIGNING_TRUST_ROOTS（{settings.signing_trust_roots}）")
    if not parts:
        return (f"无 — 实例 {settings.instance} 中没有 {ca_path.relative_to(settings.instance)}，"
                "签名无法判定为受信任；请设置 ARCHIVE_INSTANCE 或用 --trust 指定根证书")
    return "；".join(parts)
