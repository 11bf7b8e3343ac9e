"""Bulk import defers the 归档章 copy: the item is filed (checked, searchable) with the copy pending, the
item page says so, and the worker job derives it as a part (checks still pass, retention covers it)."""
from __future__ import annotations

import csv

from sqlalchemy import select

from archive_service.archive.importer import Importer
from archive_service.archive.jobs import ArchiveJobs
from archive_service.archive.models import ArchiveItem
from archive_service.archive.service import archive_for
from archive_service.models import Department
from archive_support import arch_browser, arch_people, county_in, make_pdf, users  # noqa: F401  (fixtures)


def test_import_defers_stamp_and_worker_derives_it(rt, tmp_path):
    county_in(rt)
    folder = tmp_path / "scans"
    folder.mkdir()
    cat = tmp_path / "目录.csv"
    with open(cat, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["题名", "日期", "文件名", "保管期限"])
        for i in range(3):
            (folder / f"{i}.pdf").write_bytes(make_pdf(f"scan {i}", 1))
            w.writerow([f"扫描件{i}", "20240105", f"{i}.pdf", "D30"])
    with rt.factory() as s:
        user = users(s)["zjj_staff"]
        importer = Importer(s, archive_for(rt, s), user, s.scalar(select(Department).where(Department.code == "ZJJ")))
        result = importer.run(folder, cat, lambda keep: s.commit() if keep else s.rollback())
        assert result.imported == 3 and not result.errors
    with rt.factory() as s:
        items = list(s.scalars(select(ArchiveItem).order_by(ArchiveItem.id)))
        assert [i.stamp_pending for i in items] == [True] * 3
        assert all([p.role for p in i.parts] == ["main"] and i.last_check_passed for i in items)
    assert ArchiveJobs(rt).derive_pending_stamps(batch=2) == 3
    with rt.factory() as s:
        svc = archive_for(rt, s)
        for item in s.scalars(select(ArchiveItem).order_by(ArchiveItem.id)):
            assert not item.stamp_pending
            assert [p.role for p in item.parts] == ["main", "stamped"]
            assert item.part_count == 2 and item.retention_applied_at is None
            assert svc.check(item).passed
            copy = b"".join(svc.store.open(item.parts[1].sha256))
            assert copy.startswith(b"%PDF") and copy != b"".join(svc.store.open(item.parts[0].sha256))
    assert ArchiveJobs(rt).derive_pending_stamps() == 0


def test_the_worker_loop_derives_pending_stamps_without_waiting_for_housekeeping(rt, tmp_path):
    county_in(rt)
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(make_pdf("scan a", 1))
    cat = tmp_path / "目录.csv"
    with open(cat, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["题名", "日期", "文件名", "保管期限"], ["扫描件", "20240105", "a.pdf", "D30"]])
    with rt.factory() as s:
        importer = Importer(s, archive_for(rt, s), users(s)["zjj_staff"],
                            s.scalar(select(Department).where(Department.code == "ZJJ")))
        importer.run(folder, cat, lambda keep: s.commit() if keep else s.rollback())
    worker = rt.worker(extractor=None)
    worker._housekeeping.clear()  # only the loop's frequent jobs
    worker.run(once=True)
    with rt.factory() as s:
        item = s.scalar(select(ArchiveItem))
        assert not item.stamp_pending and [p.role for p in item.parts] == ["main", "stamped"]


def test_the_item_page_and_api_say_the_stamped_copy_is_pending(rt, arch_browser, tmp_path):  # noqa: F811
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(make_pdf("scan page", 1))
    cat = tmp_path / "目录.csv"
    with open(cat, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["题名", "日期", "文件名", "保管期限"], ["待盖章扫描件", "20240105", "a.pdf", "D30"]])
    with rt.factory() as s:
        importer = Importer(s, archive_for(rt, s), users(s)["zjj_staff"],
                            s.scalar(select(Department).where(Department.code == "ZJJ")))
        importer.run(folder, cat, lambda keep: s.commit() if keep else s.rollback())
        item_id = s.scalar(select(ArchiveItem.id))
    b = arch_browser("zjj_staff")
    page = b.get(f"/archive/items/{item_id}").get_data(as_text=True)
    assert "归档章副本待生成" in page and 'id="stamped-copy"' not in page
    ArchiveJobs(rt).derive_pending_stamps()
    page = b.get(f"/archive/items/{item_id}").get_data(as_text=True)
    assert "归档章副本待生成" not in page and 'id="stamped-copy"' in page
