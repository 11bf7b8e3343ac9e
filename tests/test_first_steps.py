"""A newcomer's first hour: quiet init, read-only commands that create nothing, useful file names,
the 收文代字."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from archive_service.models import Department
from archive_service.web.transfer import ascii_fallback, content_disposition
from correspondence.numbering import Numbering

BIN = Path(sys.executable).parent / "archive-service"
SAMPLE = Path(__file__).resolve().parents[1] / "docs" / "samples" / "审批档案-测试.pdf"


def run(args, cwd, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    clean.update(env)
    return subprocess.run([str(BIN), *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=120)


def test_init_is_quiet_unless_verbose(tmp_path):
    quiet = run(["init"], tmp_path, ARCHIVE_INSTANCE=str(tmp_path / "a"))
    assert quiet.returncode == 0, quiet.stderr
    assert "alembic" not in quiet.stdout + quiet.stderr and "INFO" not in quiet.stderr
    assert "schema: migrated" in quiet.stdout
    again = run(["init"], tmp_path, ARCHIVE_INSTANCE=str(tmp_path / "a"))
    assert "schema: up to date" in again.stdout and "alembic" not in again.stderr
    verbose = run(["-v", "init"], tmp_path, ARCHIVE_INSTANCE=str(tmp_path / "b"))
    assert "alembic.runtime.migration" in verbose.stderr and "Running upgrade" in verbose.stderr


def test_verify_pdf_outside_an_instance_creates_nothing_and_names_its_trust_root(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run(["verify-pdf", str(SAMPLE)], elsewhere)
    assert result.returncode == 1  # the sample is not signed
    assert "信任根：无" in result.stdout and str(elsewhere / "instance") in result.stdout
    assert list(elsewhere.iterdir()) == []  # no ./instance, no secret_key

    inst = tmp_path / "inst"
    assert run(["init"], tmp_path, ARCHIVE_INSTANCE=str(inst)).returncode == 0
    named = run(["verify-pdf", str(SAMPLE)], elsewhere, ARCHIVE_INSTANCE=str(inst))
    assert f"实例 {inst} 的本地 CA（{inst / 'pki' / 'ca.pem'}）" in named.stdout
    assert list(elsewhere.iterdir()) == []


def test_read_only_commands_refuse_a_missing_instance_instead_of_creating_it(tmp_path):
    missing = tmp_path / "nope"
    for args in (["verify"], ["gc", "--dry-run"], ["search", "status"]):
        result = run(args, tmp_path, ARCHIVE_INSTANCE=str(missing))
        assert result.returncode == 1 and "实例不存在" in result.stderr, (args, result.stderr)
        assert not missing.exists()
    inst = tmp_path / "inst"
    run(["init"], tmp_path, ARCHIVE_INSTANCE=str(inst))
    ok = run(["verify"], tmp_path, ARCHIVE_INSTANCE=str(inst))
    assert ok.returncode == 0 and f"instance: {inst}" in ok.stderr


def test_ascii_fallback_keeps_the_id_the_ascii_part_and_the_extension():
    assert ascii_fallback("审批档案-测试.pdf", 7) == "document-7.pdf"
    assert ascii_fallback("GB 9704 样例.docx", 7) == "GB-9704-7.docx"
    assert ascii_fallback('a"b\\c.TXT', 3) == "a-b-c-3.txt"
    header = content_disposition("审批档案-测试.pdf", doc_id=7)
    assert header == ("attachment; filename=\"document-7.pdf\"; "
                      "filename*=UTF-8''%E5%AE%A1%E6%89%B9%E6%A1%A3%E6%A1%88-%E6%B5%8B%E8%AF%95.pdf")


def test_incoming_numbers_use_the_chinese_code_and_it_is_configurable(rt, make):
    make.department("regulator", name="县市场监督管理局", code="SCJG")
    with rt.factory() as s:
        numbering = Numbering(s, rt.clock)
        scjg = s.scalar(select(Department).where(Department.code == "SCJG"))
        assert numbering.prefix_for(scjg, "incoming") == "石市监收"
        numbering.set_prefix(None, scjg, "incoming", "石市场监收")
        assert numbering.prefix_for(scjg, "incoming") == "石市场监收"
        assert ("incoming", "石市场监收") in [(k, p) for d, k, p in numbering.table() if d.id == scjg.id]
        other = Department(name="县应急管理局", code="YJJ", kind="regulator", created_at=rt.clock.now())
        s.add(other)
        s.flush()
        numbering.set_prefix(None, other, "letter", "石应急函")
        assert numbering.prefix_for(other, "incoming") == "石应急收"  # derived from the 函 代字
