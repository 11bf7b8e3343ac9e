"""`archive-service check` (四性检测) and `archive-service import` (bulk import of digitised records)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import select


def _runtime():
    from .cli import _runtime as build

    return build()


@click.command("check")
@click.option("--item", "item_id", type=int, default=None, help="One item's id.")
@click.option("--fonds", default=None, help="全宗号, with --year: every item of that fonds and year.")
@click.option("--year", type=int, default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def check_command(item_id, fonds, year, as_json) -> None:
    """Run the four-property checks (四性检测); exit 1 when any check fails."""
    from .archive.models import ArchiveItem
    from .archive.service import archive_for

    rt = _runtime()
    failed = 0
    out = []
    with rt.factory() as session:
        q = select(ArchiveItem).order_by(ArchiveItem.archival_code)
        if item_id is not None:
            q = q.where(ArchiveItem.id == item_id)
        if fonds:
            q = q.where(ArchiveItem.fonds == fonds.upper())
        if year:
            q = q.where(ArchiveItem.year == year)
        svc = archive_for(rt, session)
        items = list(session.scalars(q))
        if item_id is not None and not items:
            raise click.ClickException(f"档案 {item_id} 不存在")
        for i in range(0, len(items), 200):  # a batch of items per unit of work
            batch = items[i:i + 200]
            reports = svc.check_many(batch, "demand")
            session.commit()
            for item, report in zip(batch, reports, strict=True):
                failed += not report.passed
                if as_json:
                    out.append({"id": item.id, "archival_code": item.archival_code, **report.to_dict()})
                else:
                    click.echo(f"{'PASS' if report.passed else 'FAIL'} {item.archival_code} {item.title}")
                    for c in report.failures:
                        click.echo(f"    {c.property}/{c.name}: {c.why}")
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        click.echo(f"items checked: {len(items)}, failed: {failed}")
    if failed:
        sys.exit(1)


def verify_archival_codes(session) -> list[str]:
    """Problems with 档号: malformed, inconsistent with the item's fields, or not unique."""
    from sqlalchemy import func

    from .archive.codes import code_problem, format_code
    from .archive.models import ArchiveItem

    problems = []
    for item in session.scalars(select(ArchiveItem).execution_options(yield_per=2000)):
        why = code_problem(item.archival_code)
        if why is None:
            try:
                expected = format_code(item.fonds, item.year, item.retention, item.unit, item.item_number)
                if expected != item.archival_code:
                    why = "档号与著录项不符"
            except ValueError as exc:
                why = str(exc)
        if why:
            problems.append(f"{item.id} {item.archival_code}: {why}")
    for code, n in session.execute(select(ArchiveItem.archival_code, func.count()).group_by(
            ArchiveItem.archival_code).having(func.count() > 1)):
        problems.append(f"{code}: 重复 {n} 次")
    return problems


@click.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--catalogue", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Catalogue .xlsx or .csv: 题名, 文件名, 日期, 档号 or 保管期限, …")
@click.option("--department", required=True, help="Department code or name (its organisation holds the items).")
@click.option("--user", "username", default=None, help="Archivist who files (default: the organisation's first).")
@click.option("--dry-run", is_flag=True, help="Validate every row; store and file nothing.")
@click.option("--errors", "errors_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the per-row error report (CSV) here (default: next to the catalogue).")
@click.option("--batch", default=50, show_default=True, help="Rows per transaction.")
@click.option("--ocr/--no-ocr", default=True, show_default=True,
              help="Extract the imported files' text (OCR for scans) before returning, with a progress bar; "
                   "--no-ocr leaves it to the worker.")
def import_command(folder, catalogue, department, username, dry_run, errors_out, batch, ocr) -> None:
    """Import digitised records: files in FOLDER described by a catalogue; idempotent and resumable."""
    from tqdm import tqdm

    from .archive.fonds import holding_organisation
    from .archive.importer import Importer, error_report_csv
    from .archive.service import archive_for
    from .directory import find_department
    from .errors import DomainError
    from .models import User, UserRole

    rt = _runtime()
    with rt.factory() as session:
        try:
            dept = find_department(session, department)
            org = holding_organisation(dept)
            if username:
                user = session.scalar(select(User).where(User.username == username))
                if user is None:
                    raise click.ClickException(f"用户不存在：{username}")
            else:
                from .models import Department

                ids = [org.id, *session.scalars(select(Department.id).where(Department.parent_id == org.id))]
                user = session.scalar(select(User).join(UserRole).where(
                    UserRole.role == "archivist", User.department_id.in_(ids), User.active.is_(True)).order_by(User.id))
                if user is None:
                    raise click.ClickException(f"{org.name}没有档案员，请用 --user 指定")
            importer = Importer(session, archive_for(rt, session), user, dept)
            bar = tqdm(total=0, unit="件", desc="导入" if not dry_run else "校验", disable=None)

            def progress(done, total):
                bar.total = total
                bar.n = done
                bar.refresh()

            result = importer.run(folder, catalogue, lambda keep: session.commit() if keep else session.rollback(),
                                  dry_run=dry_run, batch=batch, progress=progress)
            bar.close()
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    verb = "would import" if dry_run else "imported"
    click.echo(f"rows: {result.total}, {verb}: {result.imported}, already there: {result.skipped}, "
               f"failed: {result.failed}")
    if ocr and not dry_run and importer.documents:
        extract_imported(rt, importer.documents)
    if result.errors:
        out = errors_out or catalogue.with_name(catalogue.stem + "-errors.csv")
        out.write_text(error_report_csv(result.errors), encoding="utf-8")
        click.echo(f"error report: {out}")
        for e in result.errors[:20]:
            click.echo(f"  row {e.row} {e.column}: {e.reason}")
        sys.exit(1)


def extract_imported(rt, documents: list[int], poll: float = 1.0, chunk: int = 5000) -> None:
    """Extract the text of the files an import just filed (OCR for scans) here, as the worker would,
    with a progress bar: k/N 件 and, while a scan is read, 识别中 n/m 页 (the pages the extraction
    records). Jobs a running worker holds are waited for (their pages shown as the worker records them).
    The files are taken ``chunk`` at a time, so no query binds more ids than a database accepts."""
    import time

    from tqdm import tqdm

    from .extraction import ExtractionQueue, progress_of

    ids = sorted(set(documents))
    queue = ExtractionQueue(rt.store, rt.clock, rt.sandbox)
    bar = tqdm(total=len(ids), unit="件", desc="文字识别", disable=None)
    plain = bar.disable  # no terminal: one line per page read instead of a bar

    shown = [""]

    def show_pages(done: int, total: int) -> None:
        text = f"识别中 {done}/{total} 页"
        if text == shown[0]:
            return
        shown[0] = text
        if plain:
            click.echo(f"OCR: {text}")
        else:
            bar.set_postfix_str(text)

    queue.on_pages = lambda _doc, done, total: show_pages(done, total)
    try:
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            while True:
                with rt.factory() as session:
                    progress = progress_of(session, part)
                bar.n = start + progress.done
                bar.refresh()
                if not progress.waiting:
                    break
                if not queue.run_batch(rt.factory, "archive-service import", part):
                    if progress.pages_total:  # leased by a running worker (or waiting for a retry)
                        show_pages(progress.pages_done, progress.pages_total)
                    time.sleep(poll)
    finally:
        bar.close()
        rt.sandbox.close()
    click.echo(f"text: {len(ids)} file(s) extracted (the worker indexes their full text)")


commands = [check_command, import_command]
