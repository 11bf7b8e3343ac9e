"""Four-property checks (四性检测): a flipped byte, a missing part, a 件号 gap and a missing 题名 are each
caught and named; `archive-service check` exits 1; the worker checks oldest-checked first; `verify`
checks every 档号."""
from __future__ import annotations

import json
import os
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from archive_service.archive.jobs import ArchiveJobs
from archive_service.archive.models import ArchiveItem, ItemPart
from archive_service.cli import main
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from archive_support import arch_people, county_in, service, upload_pdf, users  # noqa: F401  (fixtures)
from tests_support import PG_ONLY


@pytest.fixture
def arch(rt, arch_people):  # noqa: F811
    return rt


def file_three(rt):
    with rt.factory() as s:
        u = users(s)
        svc = service(rt, s)
        items = []
        for i in range(3):
            doc = upload_pdf(rt, s, "zjj_staff", f"住建局检测{i}")
            items.append(svc.file(u["zjj_staff"], svc.bundle(u["zjj_staff"], document_id=doc.id), "D10").id)
        s.commit()
        for item_id in items:
            svc.apply_retention(s.get(ArchiveItem, item_id))
        s.commit()
        return items


def failing(rt, item_id):
    with rt.factory() as s:
        report = service(rt, s).check(s.get(ArchiveItem, item_id), "demand")
        s.commit()
        return report, {c.name: c for c in report.failures}


def test_a_fresh_item_passes_every_check(arch):
    item_id = file_three(arch)[0]
    report, _failed = failing(arch, item_id)
    assert report.passed, report.summary()
    assert {c.property for c in report.checks} == {"authenticity", "integrity", "usability", "security"}


def test_a_flipped_byte_is_caught_by_the_digest_check(arch):
    item_id = file_three(arch)[0]
    with arch.factory() as s:
        main_part = s.scalar(select(ItemPart).where(ItemPart.item_id == item_id, ItemPart.role == "main"))
        path = arch.store._path(main_part.sha256)
    os.chmod(path, 0o644)  # filing made it read-only (local retention)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report, failed = failing(arch, item_id)
    assert not report.passed
    assert "digests_match" in failed and "SHA-256 不符" in failed["digests_match"].why


def test_a_missing_part_is_caught(arch):
    item_id = file_three(arch)[0]
    with arch.factory() as s:
        s.execute(delete(ItemPart).where(ItemPart.item_id == item_id, ItemPart.role == "stamped"))
        s.commit()
    _report, failed = failing(arch, item_id)
    assert "parts_complete" in failed and "应有 2 个组成文件，现有 1 个" in failed["parts_complete"].why


def test_a_gap_in_item_numbers_is_caught(arch):
    _first, second, third = file_three(arch)
    with arch.factory() as s:
        s.execute(delete(ItemPart).where(ItemPart.item_id == second))
        s.execute(delete(ArchiveItem).where(ArchiveItem.id == second))
        s.commit()
    _report, failed = failing(arch, third)
    assert "item_numbers_gapless" in failed and "0002" in failed["item_numbers_gapless"].why


def test_a_missing_title_is_caught(arch):
    item_id = file_three(arch)[0]
    with arch.factory() as s:
        s.execute(update(ArchiveItem).where(ArchiveItem.id == item_id).values(title=""))
        s.commit()
    _report, failed = failing(arch, item_id)
    assert "mandatory_metadata" in failed and "题名" in failed["mandatory_metadata"].why


def test_checking_many_items_at_once_finds_what_checking_each_finds(arch):
    """``check_many`` (the check command, the worker's sample) fetches what the checks look up once per
    batch; its reports equal the one-by-one reports, failures included (a flipped byte, a missing part,
    a missing 题名, and the 件号 gap a deleted item leaves)."""
    ids = file_three(arch) + file_three(arch)
    with arch.factory() as s:
        parts = {i: s.scalar(select(ItemPart).where(ItemPart.item_id == i, ItemPart.role == "main")) for i in ids}
        path = arch.store._path(parts[ids[0]].sha256)
        s.execute(delete(ItemPart).where(ItemPart.item_id == ids[1], ItemPart.role == "stamped"))
        s.execute(update(ArchiveItem).where(ArchiveItem.id == ids[2]).values(title=""))
        s.execute(delete(ItemPart).where(ItemPart.item_id == ids[3]))
        s.execute(delete(ArchiveItem).where(ArchiveItem.id == ids[3]))
        s.commit()
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    kept = [i for i in ids if i != ids[3]]
    with arch.factory() as s:
        svc = service(arch, s)
        one_by_one = [svc.check(s.get_one(ArchiveItem, i), record=False).to_dict() for i in kept]
    with arch.factory() as s:
        svc = service(arch, s)
        together = [r.to_dict() for r in svc.check_many([s.get_one(ArchiveItem, i) for i in kept], batch=3)]
        s.commit()
    assert together == one_by_one
    failed = {i: {c["name"] for c in r["checks"] if c["result"] == "fail"}
              for i, r in zip(kept, together, strict=True)}
    assert "digests_match" in failed[ids[0]] and "parts_complete" in failed[ids[1]]
    assert "mandatory_metadata" in failed[ids[2]] and "item_numbers_gapless" in failed[ids[4]]


def test_the_worker_checks_oldest_checked_first(arch):
    ids = file_three(arch)
    jobs = ArchiveJobs(arch, sample=1)
    with arch.factory() as s:
        before = {i: s.get(ArchiveItem, i).last_checked_at for i in ids}
    assert jobs.check_sample() == 1
    with arch.factory() as s:
        after = {i: s.get(ArchiveItem, i).last_checked_at for i in ids}
    changed = [i for i in ids if after[i] != before[i]]
    assert changed == [ids[0]]  # the oldest-checked one


@pytest.fixture
def cli(county_copy, monkeypatch):
    instance, url = county_copy
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", url)
    runner = CliRunner()
    rt = Runtime.build(Settings.from_env(), features=FEATURES)
    county_in(rt, over_small_county=True)

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    yield rt, run
    rt.engine.dispose()


def test_check_command_exits_1_on_a_failure_and_verify_checks_codes(cli):
    rt, run = cli
    ids = file_three(rt)
    ok = run("check", "--fonds", "J012", "--year", str(rt.clock.now().year), "--json")
    assert ok.exit_code == 0, ok.output
    assert [r["passed"] for r in json.loads(ok.output)] == [True, True, True]
    assert "archival codes: well-formed and unique" in run("verify").output
    with rt.factory() as s:
        s.execute(update(ArchiveItem).where(ArchiveItem.id == ids[1]).values(archival_code="J012-WS-2025"))
        s.commit()
    bad = run("check", "--item", str(ids[1]))
    assert bad.exit_code == 1 and "archival_code_valid_unique" in bad.output
    v = run("verify")
    assert v.exit_code == 1 and "ARCHIVAL CODE FAIL" in v.output


@PG_ONLY
def test_32_concurrent_filings_get_gapless_numbers(arch):
    with arch.factory() as s:
        doc_ids = [upload_pdf(arch, s, "zjj_staff", f"并发归档{i}").id for i in range(32)]
    barrier = threading.Barrier(32)
    codes, errors = [], []

    def file_one(doc_id):
        barrier.wait()
        with arch.factory() as s:
            try:
                u = users(s)["zjj_staff"]
                svc = service(arch, s)
                item = svc.file(u, svc.bundle(u, document_id=doc_id), "D30")
                s.commit()
                codes.append(item.item_number)
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=file_one, args=(d,)) for d in doc_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(codes) == list(range(1, 33))
