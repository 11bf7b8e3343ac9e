"""Search commands: `search status`, `reindex`, `import-corpus`."""
from __future__ import annotations

import time
from pathlib import Path

import click
from sqlalchemy import func, select


def _runtime():
    from .cli import _runtime as build

    return build()


def _existing_runtime():
    from .cli import _existing_runtime as build

    return build()


@click.group("search")
def search_group() -> None:
    """Full-text search index."""


@search_group.command("status")
def status() -> None:
    """Show the engine, indexed count, outbox lag and failures."""
    from . import outbox
    from .indexing_models import ExtractionJob, IndexFailure, TextExtraction
    from .models import Document, OutboxEntry

    rt = _existing_runtime()
    engine = rt.search_engine
    with rt.factory() as s:
        docs = s.scalar(select(func.count()).select_from(Document)) or 0
        pending = select(OutboxEntry).where(OutboxEntry.topic == outbox.SEARCH, OutboxEntry.processed_at.is_(None))
        n_pending = s.scalar(select(func.count()).select_from(pending.subquery())) or 0
        oldest = s.scalar(select(func.min(OutboxEntry.created_at)).where(
            OutboxEntry.topic == outbox.SEARCH, OutboxEntry.processed_at.is_(None)))
        retrying = s.scalars(pending.where(OutboxEntry.last_error.is_not(None)).order_by(OutboxEntry.id).limit(5)).all()
        failures = s.scalars(select(IndexFailure).order_by(IndexFailure.failed_at.desc()).limit(10)).all()
        n_failures = s.scalar(select(func.count()).select_from(IndexFailure)) or 0
        extraction = dict(s.execute(select(TextExtraction.status, func.count()).group_by(TextExtraction.status)).all())
    click.echo(f"engine: {engine.name}")
    try:
        click.echo(f"indexed: {engine.count()} / documents in database: {docs}")
    except Exception as exc:  # the engine is down: say so, keep reporting the rest
        click.echo(f"indexed: 无法连接搜索引擎（{exc}）")
    lag = (rt.clock.now() - oldest).total_seconds() if oldest else 0.0
    click.echo(f"outbox pending: {n_pending}, lag: {lag:.1f} s")
    for e in retrying:
        click.echo(f"  retrying document {e.document_id} (attempts {e.attempts}): {e.last_error[:200]}")
    with rt.factory() as s:
        queued = s.scalar(select(func.count()).select_from(ExtractionJob)) or 0
    click.echo(f"extraction queue: {queued} waiting (sandbox: OCR engine {rt.settings.extract_limits.ocr_engine})")
    click.echo("text extraction: " + (", ".join(f"{k} {v}" for k, v in sorted(extraction.items())) or "none"))
    click.echo(f"index failures: {n_failures}")
    for f in failures:
        click.echo(f"  document {f.document_id} (attempts {f.attempts}): {f.error[:200]}")


@search_group.command("init")
def init_index() -> None:
    """Create the index set-up (Elasticsearch: the first index and its alias) if missing."""
    engine = _existing_runtime().search_engine
    created = engine.init()
    click.echo(f"engine: {engine.name}: " + ("index created" if created else "index already set up"))


@click.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index from the database and store (then switch to it atomically)."""
    from .indexing import reindex, total_documents

    rt = _runtime()
    with rt.factory() as s:
        total = total_documents(s)
    started = time.perf_counter()
    with click.progressbar(length=total, label="重建索引", show_pos=True) as bar:
        n = reindex(rt.factory, rt.search_engine, rt.store, rt.clock, progress=bar.update,
                    extenders=rt.features.record_extenders())
    elapsed = time.perf_counter() - started
    click.echo(f"indexed {n} documents in {elapsed:.1f} s ({n / max(elapsed, 1e-9):.0f}/s)")


@click.command("import-corpus")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", default="admin", show_default=True, help="Importing user (owns the documents).")
@click.option("--limit", type=int, default=None, help="Import at most this many records.")
@click.option("--batch", type=int, default=500, show_default=True, help="Documents per transaction.")
@click.option("--catalogue", is_flag=True, help="Mark the documents as county-wide catalogue entries.")
def import_corpus(path: Path, username: str, limit: int | None, batch: int, catalogue: bool) -> None:
    """Import a JSON Lines corpus (id, title, body per line; .gz allowed) as documents."""
    from .bulk_import import BulkImporter, count_lines, read_jsonl
    from .errors import DomainError
    from .models import User

    rt = _runtime()
    with rt.factory() as s:
        user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"用户不存在：{username}")
    started = time.perf_counter()
    # the import job commits batch by batch (each batch one unit of work)
    importer = BulkImporter(rt.factory, rt.store, rt.clock, user, batch=batch, catalogue=catalogue,
                            max_bytes=rt.settings.max_upload_bytes, limits=rt.settings.extract_limits)
    try:
        total = limit or count_lines(path)
        with click.progressbar(length=total, label="导入", show_pos=True) as bar:
            report = importer.run(read_jsonl(path), limit, progress=bar.update)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    elapsed = time.perf_counter() - started
    click.echo(f"imported {report.imported} documents in {elapsed:.1f} s "
               f"({report.imported / max(elapsed, 1e-9):.0f}/s), skipped {report.skipped}")
    for line in report.errors[:20]:
        click.echo(f"  skipped {line}")
    click.echo("the worker indexes them from the outbox (or run `archive-service reindex`)")


search_commands = (search_group, reindex_command, import_corpus)
