"""Bulk import: per-row errors (row, column, reason), idempotent re-runs, resume after a kill, ZIP safety,
the ZIP upload over the API, and imported items found by 档号."""
from __future__ import annotations

import csv
import io
import os
import stat
import time
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive_service.archive.importer import Importer, zip_refusal
from archive_service.archive.jobs import ArchiveJobs
from archive_service.archive.models import ArchiveItem, ItemPart
from archive_service.archive.service import archive_for
from archive_service.cli import main
from archive_service.indexing_models import ExtractionJob
from archive_service.models import Department, Document
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from archive_support import arch_browser, arch_clients, arch_people, county_in, make_pdf, users  # noqa: F401  (fixtures)

HEADER = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注", "文件名", "保管期限"]


def write_folder(folder, n=6, year=2019):
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(1, n + 1):
        name = f"scan-{i:03d}.pdf"
        (folder / name).write_bytes(make_pdf(f"historical record {i}", pages=1 + i % 3))
        rows.append([i, "", f"石住建〔{year}〕{i}号", "县住房和城乡建设局", f"历史文件{i}", f"{year}0{1 + i % 9}15",
                     "非密", 1, "", name, "D30"])
    return rows


def write_csv(path, rows, header=HEADER):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture
def cli(county_copy, monkeypatch):
    instance, url = county_copy
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", url)
    rt = Runtime.build(Settings.from_env(), features=FEATURES)
    county_in(rt, over_small_county=True)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    yield rt, run
    rt.engine.dispose()


def test_bad_rows_are_reported_and_the_others_imported_and_a_rerun_creates_nothing(cli, tmp_path):
    rt, run = cli
    folder = tmp_path / "scans"
    rows = write_folder(folder)
    rows[1][5] = "2019-13-45"  # bad date (row 3)
    rows[2][1] = "J012-WS·2019-D30-BGS-12"  # malformed 档号 (row 4)
    rows[3][9] = "missing.pdf"  # missing file (row 5)
    rows[4][1] = "J012-WS·2019-D30-BGS-0007"  # a valid given 档号 (row 6)
    rows[5][1] = "J012-WS·2019-D30-BGS-0007"  # the same 档号 again (row 7)
    write_csv(tmp_path / "目录.csv", rows)
    result = run("import", str(folder), "--catalogue", str(tmp_path / "目录.csv"), "--department", "ZJJ")
    assert result.exit_code == 1
    assert "rows: 6, imported: 2, already there: 0, failed: 4" in result.output
    report = list(csv.reader(io.StringIO((tmp_path / "目录-errors.csv").read_text(encoding="utf-8-sig"))))
    assert report[0] == ["行号", "列", "原因"]
    by_row = {int(r[0]): (r[1], r[2]) for r in report[1:]}
    assert by_row[3][0] == "日期" and "YYYYMMDD" in by_row[3][1]
    assert by_row[4][0] == "档号"
    assert by_row[5][0] == "文件名" and "不存在" in by_row[5][1]
    assert by_row[7][0] == "档号" and "重复" in by_row[7][1]
    with rt.factory() as s:
        codes = sorted(s.scalars(select(ArchiveItem.archival_code)))
        assert codes == ["J012-WS·2019-D30-BGS-0001", "J012-WS·2019-D30-BGS-0007"]

    again = run("import", str(folder), "--catalogue", str(tmp_path / "目录.csv"), "--department", "ZJJ")
    assert "imported: 0, already there: 2" in again.output
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(ArchiveItem)) == 2
        # the taken 档号 is now reported as taken, not imported twice
    dry = run("import", str(folder), "--catalogue", str(tmp_path / "目录.csv"), "--department", "ZJJ", "--dry-run")
    assert "would import: 0" in dry.output


def test_an_unknown_column_rejects_the_rows_that_use_it(cli, tmp_path):
    _rt, run = cli
    folder = tmp_path / "scans"
    rows = [[*r, ""] for r in write_folder(folder, n=3)]
    rows[0][-1] = "有值"
    write_csv(tmp_path / "c.csv", rows, [*HEADER, "来源"])
    result = run("import", str(folder), "--catalogue", str(tmp_path / "c.csv"), "--department", "ZJJ")
    assert "imported: 2" in result.output and "来源" in result.output


def test_an_import_killed_half_way_resumes_without_duplicates(cli, tmp_path):
    rt, run = cli
    folder = tmp_path / "scans"
    write_csv(tmp_path / "c.csv", write_folder(folder, n=9))

    class Killed(BaseException):
        pass

    def kill_after_five(done, total):
        if done == 5:
            raise Killed()

    with rt.factory() as s:
        u = users(s)["zjj_staff"]
        importer = Importer(s, archive_for(rt, s), u, s.scalar(select(Department).where(Department.code == "ZJJ")))
        with pytest.raises(Killed):
            importer.run(folder, tmp_path / "c.csv", lambda keep: s.commit(), batch=2, progress=kill_after_five)
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(ArchiveItem)) == 4  # two batches committed
    result = run("import", str(folder), "--catalogue", str(tmp_path / "c.csv"), "--department", "ZJJ")
    assert "imported: 5, already there: 4" in result.output
    with rt.factory() as s:
        numbers = sorted(s.scalars(select(ArchiveItem.item_number)))
        assert numbers == list(range(1, 10))
        assert s.scalar(select(func.count()).select_from(Document).where(Document.kind == "archive")) == 9


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            if isinstance(data, zipfile.ZipInfo):
                z.writestr(data, name)
            else:
                z.writestr(name, data)
    return path


def test_unsafe_zips_are_refused_whole(tmp_path):
    assert "绝对路径" in zip_refusal(_zip(tmp_path / "a.zip", [("/etc/x.pdf", b"x")]))
    assert ".." in zip_refusal(_zip(tmp_path / "b.zip", [("files/../../x.pdf", b"x")]))
    link = zipfile.ZipInfo("link.pdf")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert "符号链接" in zip_refusal(_zip(tmp_path / "c.zip", [("/etc/passwd", link)]))
    assert "压缩比" in zip_refusal(_zip(tmp_path / "d.zip", [("bomb.pdf", b"\0" * 5_000_000)]))
    many = tmp_path / "e.zip"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(10_001):
            z.writestr(f"f{i}.txt", b"")
    assert "10000" in zip_refusal(many)
    assert zip_refusal(_zip(tmp_path / "ok.zip", [("a.pdf", make_pdf("ok"))])) is None


def test_zip_upload_over_the_api_imports_with_progress_and_a_report(rt, arch_browser, arch_clients,  # noqa: F811
                                                                    tmp_path):
    clients = arch_clients
    rows = write_folder(tmp_path / "z", n=3, year=2018)
    rows[2][5] = "bad"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(rows)
    members = [(f"scans/{r[9]}", (tmp_path / "z" / r[9]).read_bytes()) for r in rows]
    members.append(("scans/目录.csv", buf.getvalue().encode("utf-8")))
    zpath = _zip(tmp_path / "upload.zip", members)
    client, h = clients("zjj_staff")
    resp = client.post("/api/v1/archive/imports", headers=h,
                       data={"file": (io.BytesIO(zpath.read_bytes()), "upload.zip")})
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["status"] == "queued"  # the worker imports it, not the web process
    run_id = resp.get_json()["id"]
    jobs = ArchiveJobs(rt)  # the worker loop's job: the import runs in a thread of the worker process
    assert jobs.start_queued_imports() is True
    assert jobs._importing is not None
    jobs._importing.join(120)
    assert jobs.start_queued_imports() is False  # nothing waits any more
    state = client.get(f"/api/v1/archive/imports/{run_id}", headers=h).get_json()
    assert state["status"] == "done", state
    assert (state["total"], state["done"], state["imported"], state["failed"]) == (3, 3, 2, 1)
    report = client.get(f"/api/v1/archive/imports/{run_id}/errors.csv", headers=h).get_data(as_text=True)
    assert "4,日期" in report
    # the text of the imported scans is recognised by the worker: the run's page follows it page by page
    assert state["text"] == {"documents": 2, "waiting": 2, "pages_done": 0, "pages_total": 0}
    with rt.factory() as s:
        docs = list(s.scalars(select(ItemPart.document_id).join(ArchiveItem)
                              .where(ArchiveItem.import_run_id == run_id)))
        job = s.scalar(select(ExtractionJob).where(ExtractionJob.document_id == docs[0]))
        job.pages_done, job.pages_total = 12, 40  # what the extraction worker writes as it reads a scan
        s.commit()
        item_id = s.scalar(select(ArchiveItem.id).where(ArchiveItem.import_run_id == run_id))
    b = arch_browser("zjj_staff")
    page = b.get(f"/archive/imports/{run_id}").get_data(as_text=True)
    assert "识别中 12/40 页，0/2 件已可全文检索" in page
    rt.worker().drain()  # the worker extracts the text (these are text PDFs) and indexes it
    page = b.get(f"/archive/imports/{run_id}").get_data(as_text=True)
    assert "2 件均已可全文检索" in page
    assert "全文检索：已提取" in b.get(f"/archive/items/{item_id}").get_data(as_text=True)
    bad = _zip(tmp_path / "evil.zip", [("../evil.pdf", b"x")])
    refused = client.post("/api/v1/archive/imports", headers=h,
                          data={"file": (io.BytesIO(bad.read_bytes()), "evil.zip")})
    assert refused.status_code == 422 and ".." in refused.get_json()["error"]["message"]
    other, oh = clients("scjg_staff")
    assert other.get(f"/api/v1/archive/imports/{run_id}", headers=oh).status_code == 404


def test_a_real_import_process_killed_with_sigkill_resumes_without_duplicates(cli, tmp_path, county_copy):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    rt, run = cli
    folder = tmp_path / "scans"
    write_csv(tmp_path / "c.csv", write_folder(folder, n=60))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(ARCHIVE_INSTANCE=str(county_copy[0]), ARCHIVE_DATABASE_URL=county_copy[1])
    exe = Path(sys.executable).parent / "archive-service"
    proc = subprocess.Popen([str(exe), "import", str(folder), "--catalogue", str(tmp_path / "c.csv"),
                             "--department", "ZJJ", "--batch", "5"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with rt.factory() as s:
                if s.scalar(select(func.count()).select_from(ArchiveItem)) >= 5:
                    break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    with rt.factory() as s:
        before = s.scalar(select(func.count()).select_from(ArchiveItem))
    assert 5 <= before <= 60
    result = run("import", str(folder), "--catalogue", str(tmp_path / "c.csv"), "--department", "ZJJ")
    assert f"imported: {60 - before}, already there: {before}" in result.output, result.output
    with rt.factory() as s:
        assert sorted(s.scalars(select(ArchiveItem.item_number))) == list(range(1, 61))
        assert s.scalar(select(func.count()).select_from(Document).where(Document.kind == "archive")) == 60


def test_a_file_failing_its_checks_is_reported_and_the_rest_of_its_chunk_filed(cli, tmp_path):
    """Rows are filed a chunk at a time; a row whose file fails the four-property checks (a PDF that does
    not open) is reported on its own, the other rows of its chunk are filed with gapless numbers, and the
    audit chain written for the chunk verifies."""
    from archive_service.audit import verify_chain

    rt, run = cli
    folder = tmp_path / "scans"
    rows = write_folder(folder, n=5)
    (folder / rows[1][9]).write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> broken")
    write_csv(tmp_path / "c.csv", rows)
    result = run("import", str(folder), "--catalogue", str(tmp_path / "c.csv"), "--department", "ZJJ")
    assert "rows: 5, imported: 4, already there: 0, failed: 1" in result.output, result.output
    report = (tmp_path / "c-errors.csv").read_text(encoding="utf-8-sig")
    assert "\n3,," in report and "四性检测未通过" in report and "内容可打开" in report
    with rt.factory() as s:
        items = list(s.scalars(select(ArchiveItem).order_by(ArchiveItem.item_number)))
        assert [i.item_number for i in items] == [1, 2, 3, 4]
        assert [i.title for i in items] == ["历史文件1", "历史文件3", "历史文件4", "历史文件5"]
        assert all(i.last_check_passed and i.pages == 1 + int(i.title[-1]) % 3 for i in items)
        assert verify_chain(s).ok
    again = run("import", str(folder), "--catalogue", str(tmp_path / "c.csv"), "--department", "ZJJ")
    assert "imported: 0, already there: 4, failed: 1" in again.output


def test_an_upload_left_running_by_a_stopped_worker_is_resumed_and_a_failed_one_can_be_queued_again(
        rt, arch_browser, arch_clients, tmp_path):  # noqa: F811
    """A worker stopping half-way leaves the run "running": once its lease has run out the next worker
    takes it up and imports only the rows not yet imported; a run marked failed is queued again from its
    page, and the import ends with every row imported once."""
    from datetime import timedelta

    from archive_service.archive.models import ImportRun

    clients = arch_clients
    rows = write_folder(tmp_path / "z", n=6, year=2017)
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    members = [(r[9], (tmp_path / "z" / r[9]).read_bytes()) for r in rows] + [("目录.csv", buf.getvalue().encode())]
    client, h = clients("zjj_staff")
    resp = client.post("/api/v1/archive/imports", headers=h,
                       data={"file": (io.BytesIO(_zip(tmp_path / "u.zip", members).read_bytes()), "u.zip")})
    run_id = resp.get_json()["id"]
    jobs = ArchiveJobs(rt, import_batch=2)

    class Stopped(BaseException):
        pass

    def stop_after_one_chunk(*args, **kwargs):  # the worker process dies after a commit
        real_checkpoint(*args, **kwargs)
        raise Stopped()

    def worker_dies_after_one_chunk():
        Importer._checkpoint = stop_after_one_chunk
        try:
            with pytest.raises(Stopped):
                jobs._import(jobs._claim_import())
        finally:
            Importer._checkpoint = real_checkpoint
        return client.get(f"/api/v1/archive/imports/{run_id}", headers=h).get_json()

    real_checkpoint = Importer._checkpoint
    state = worker_dies_after_one_chunk()
    assert (state["status"], state["imported"]) == ("running", 2)
    assert jobs.run_queued_imports() == 0  # its lease still holds: nobody takes it over yet
    with rt.factory() as s:  # ten minutes later the lease has run out: the next worker resumes the run
        s.get_one(ImportRun, run_id).lease_until -= timedelta(minutes=11)
        s.commit()
    state = worker_dies_after_one_chunk()  # (and dies too, after one more chunk)
    assert (state["status"], state["done"], state["imported"], state["skipped"]) == ("running", 4, 4, 0), state

    with rt.factory() as s:  # given up (as after three attempts): the archivist queues it again
        s.get_one(ImportRun, run_id).status = "failed"
        s.commit()
    b = arch_browser("zjj_staff")
    assert "继续导入" in b.get(f"/archive/imports/{run_id}").get_data(as_text=True)
    b.post(f"/archive/imports/{run_id}/resume")
    assert "排队中" in b.get(f"/archive/imports/{run_id}").get_data(as_text=True)
    assert client.post(f"/api/v1/archive/imports/{run_id}/resume", headers=h).status_code == 409  # queued already
    assert jobs.run_queued_imports() == 1
    state = client.get(f"/api/v1/archive/imports/{run_id}", headers=h).get_json()
    assert (state["status"], state["done"], state["imported"], state["skipped"]) == ("done", 6, 6, 0), state
    with rt.factory() as s:
        assert sorted(s.scalars(select(ArchiveItem.item_number).where(ArchiveItem.year == 2017))) == list(range(1, 7))
