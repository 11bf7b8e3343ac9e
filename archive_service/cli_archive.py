"""`archive-service check` (四性检测) and `archive-service import` (bulk import of digitised records)."""
from __future__ import annotations

import json
import sys

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
        for item in items:
            report = svc.check(item, "demand")
            session.commit()
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
                if format_code(item.fonds, item.year, item.retention, item.unit, item.item_number) != item.archival_code:
                    why = "档号与著录项不符"
            except ValueError as exc:
                why = str(exc)
        if why:
            problems.append(f"{item.id} {item.archival_code}: {why}")
    for code, n in session.execute(select(ArchiveItem.archival_code, func.count()).group_by(
            ArchiveItem.archival_code).having(func.count() > 1)):
        problems.append(f"{code}: 重复 {n} 次")
    return problems


commands = [check_command]
