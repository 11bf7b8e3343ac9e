"""The `archive-service` command line."""
from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click

from .settings import Settings


def _runtime():
    """The command's Runtime, with every feature of the wiring layer installed."""
    from .settings import ConfigError
    from .wiring import build_runtime

    try:
        return build_runtime(Settings.from_env())
    except ConfigError as exc:  # e.g. a seal image that is not a transparent PNG: no start, the file named
        raise click.ClickException(str(exc)) from None


def _existing_runtime():
    """The runtime of an instance that already exists, for commands that only read.

    Never creates the instance folder, its SQLite file or its secret_key; says which instance it uses."""
    from .wiring import build_runtime

    settings = Settings.from_env(read_only=True)
    url = settings.database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path != ":memory:" and not Path(path).is_file():
            raise click.ClickException(
                f"实例不存在：{settings.instance}（没有数据库文件 {path}）。"
                "请设置 ARCHIVE_INSTANCE 或 ARCHIVE_DATABASE_URL，或先运行 archive-service init")
    if settings.storage_url.startswith("file:"):
        root = Path(unquote(urlsplit(settings.storage_url).path))
        if not root.is_dir():
            raise click.ClickException(f"对象存储目录不存在：{root}。请设置 ARCHIVE_INSTANCE 或 ARCHIVE_STORAGE_URL")
    from .settings import ConfigError

    try:
        rt = build_runtime(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"instance: {settings.instance}", err=True)
    click.echo(f"database: {rt.engine.url.render_as_string(hide_password=True)}", err=True)
    return rt


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="更详细的日志")
def main(verbose: bool) -> None:
    """石城县审管协调电子档案与公文系统 — archive service."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:  # alembic's plugin set-up and per-revision INFO lines only with -v
        logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@click.option("--demo", is_flag=True, help="Load the demo county (departments, users, sample files).")
def init(demo: bool) -> None:
    """Create or upgrade the instance (idempotent)."""
    from .db import current_heads
    from .demo import load_demo

    rt = _runtime()
    rt.settings.instance.mkdir(parents=True, exist_ok=True)
    before = set(current_heads(rt.engine))
    rt.migrate()
    after = set(current_heads(rt.engine))
    rt.store.ping()
    click.echo(f"instance: {rt.settings.instance}")
    click.echo(f"database: {rt.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"schema: {'up to date' if after == before else 'migrated'} ({', '.join(sorted(after))})")
    if demo:
        with rt.transaction() as session:
            created = load_demo(session, rt.clock, rt.documents)
        click.echo("demo data loaded" if created else "demo data already present")
    from .cli_signing import init_signing

    init_signing(rt)  # local CA + a certificate per department (or a check of the PKCS#12 folder)
    _anchor(rt)  # pins the head right after an upgrade (era-0 events before it, keyed ones after)
    if demo:
        for feature in rt.features:
            if feature.demo is not None:
                with rt.transaction() as session:
                    created = feature.demo(session, rt)
                if created:
                    click.echo(created)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not run the in-process worker (run `worker` beside).")
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, no_worker: bool, threads: int) -> None:
    """Serve the web UI and API (with an in-process worker unless --no-worker)."""
    from waitress import serve as waitress_serve

    from .web import create_app, ready_to_serve

    rt = _runtime()
    app = create_app(rt)
    if not no_worker:  # the OCR smoke page runs in the worker's extraction thread: serving starts at once
        w = _worker(rt, check_ocr=False)
        w.extraction_check = rt.sandbox.check_ocr
        w.start_thread(rt.settings.worker_interval)
    click.echo(f"serving on http://{host}:{port}")
    ready_to_serve()
    waitress_serve(app, host=host, port=port, threads=threads,
                   max_request_body_size=rt.settings.max_upload_bytes + 10 * 1024 * 1024,
                   channel_timeout=300, ident="archive-service")


@main.command()
@click.option("--once", is_flag=True, help="Run every job once and exit.")
def worker(once: bool) -> None:
    """Run background jobs: search outbox drain, orphan collection, fixity sampling."""
    rt = _runtime()
    _worker(rt, check_ocr=not once).run(interval=rt.settings.worker_interval, once=once)


def _worker(rt, check_ocr: bool = True):
    """The core worker plus the features' periodic jobs; first one OCR smoke page in the sandbox."""
    if check_ocr:
        try:
            engine = rt.sandbox.check_ocr()
        except RuntimeError as exc:  # a broken OCR install fails loudly, not one scan at a time
            raise click.ClickException(f"{exc}（可设置 ARCHIVE_OCR_ENGINE=tesseract 或 off）") from None
        click.echo(f"OCR engine: {engine}")
    return rt.worker()  # with the features' periodic jobs (``Feature.jobs``)


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--department", required=True, help="Department code or full name.")
@click.option("--role", "roles", multiple=True, required=True,
              help="drafter, reviewer, signer, clerk, archivist, liaison, admin, auditor, secadmin "
                   "(repeat or comma-separate; admin, auditor and secadmin are never held by one user).")
@click.option("--full-name", default=None)
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def user_add(name, department, roles, full_name, password_stdin) -> None:
    """Add a user."""
    from .directory import Directory, find_department
    from .errors import DomainError

    password = sys.stdin.readline().rstrip("\r\n")
    rt = _runtime()
    try:
        with rt.transaction() as session:
            dept = find_department(session, department)
            u = Directory(session, rt.clock).add_user(name, full_name or name, dept, roles, password)
            click.echo(f"user {u.username} ({u.department.name}: {', '.join(sorted(u.roles))}) added")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


def _anchor(rt) -> str | None:
    from .audit import write_anchor

    with rt.factory() as session:
        return write_anchor(session, rt.store, rt.clock, rt.settings.audit_anchor_retention_days)


@main.command("audit-anchor")
def audit_anchor() -> None:
    """Write the audit chain's head to the object store now (the worker does it periodically)."""
    rt = _existing_runtime()
    if not rt.settings.audit_key:
        raise click.ClickException("no audit key: set ARCHIVE_AUDIT_KEY or run `archive-service init`")
    name = _anchor(rt)
    click.echo(f"anchor written: {name}" if name else "nothing new to anchor")


@main.command()
def verify() -> None:
    """Re-hash every blob, check the audit chain (every link, the anchors in the object store, every
    document version against its audit event) and every 档号; exit 1 on any failure."""
    from .audit import verify_anchors, verify_chain, verify_versions
    from .fixity import run_fixity

    rt = _existing_runtime()
    if not rt.settings.audit_key:
        click.echo("AUDIT KEY MISSING: keyed audit events cannot be checked "
                   "(ARCHIVE_AUDIT_KEY or <instance>/audit_key)")
    with rt.transaction() as session:
        report = run_fixity(session, rt.store, rt.clock)
        for sha, reason in report.failures:
            click.echo(f"BLOB FAIL {sha}: {reason}")
        click.echo(f"blobs checked: {report.checked}, failures: {len(report.failures)}")
        chain = verify_chain(session)
        for event_id, reason in chain.problems:
            click.echo(f"AUDIT CHAIN BROKEN at event {event_id}: {reason}")
        click.echo(f"audit chain: {chain.checked} events, {len(chain.problems)} broken link(s)"
                   if chain.problems else f"audit chain intact: {chain.checked} events")
        anchors, anchor_problems = verify_anchors(session, rt.store)
        for name, reason in anchor_problems:
            click.echo(f"AUDIT ANCHOR FAIL {name}: {reason}")
        click.echo(f"audit anchors checked: {anchors}, failures: {len(anchor_problems)}")
        versions, version_problems = verify_versions(session)
        for doc_id, number, reason in version_problems:
            click.echo(f"VERSION FAIL document {doc_id} v{number}: {reason}")
        click.echo(f"document versions checked against audit events: {versions}, failures: {len(version_problems)}")
        from .cli_archive import verify_archival_codes

        code_problems = verify_archival_codes(session)
        for line in code_problems:
            click.echo(f"ARCHIVAL CODE FAIL {line}")
        codes = f"{len(code_problems)} problem(s)" if code_problems else "well-formed and unique"
        click.echo(f"archival codes: {codes}")
    if not report.ok or not chain.ok or anchor_problems or version_problems or code_problems:
        sys.exit(1)


@main.command()
@click.option("--grace-hours", type=float, default=None, help="Override ARCHIVE_GC_GRACE_HOURS.")
@click.option("--dry-run", is_flag=True)
def gc(grace_hours, dry_run) -> None:
    """Remove stored blobs that no document version references (older than the grace period)."""
    from .documents import collect_orphans, orphan_blob_keys

    rt = _existing_runtime() if dry_run else _runtime()
    grace = timedelta(hours=rt.settings.gc_grace_hours if grace_hours is None else grace_hours)
    with rt.transaction() as session:
        if dry_run:
            keys = orphan_blob_keys(session, rt.store, rt.clock, grace)
        else:
            keys = collect_orphans(session, rt.store, rt.clock, grace)
    for k in keys:
        click.echo(k)
    click.echo(f"{'would remove' if dry_run else 'removed'} {len(keys)} orphan blob(s)")


def _register_feature_commands() -> None:
    """Feature command groups live in their own modules; each is added here."""
    from .cli_archive import commands as archive_commands
    from .cli_render import fonts, render
    from .cli_search import search_commands
    from .cli_signing import verify_pdf_command

    for command in (verify_pdf_command, render, fonts, *search_commands, *archive_commands):
        main.add_command(command)


_register_feature_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
