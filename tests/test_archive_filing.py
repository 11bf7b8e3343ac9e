"""Filing (归档): 档号 allocation, who may file, filing twice, letters as one 件, the 归档章 copy."""
from __future__ import annotations

import io
import random

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from archive_service.archive.codes import code_problem, format_code, is_well_formed, parse_code
from archive_service.archive.models import ArchiveItem, ItemCounter
from archive_service.errors import Conflict, Forbidden, NotFound
from archive_support import arch_people, issue_letter, service, upload_pdf, users  # noqa: F401  (fixtures)


@pytest.fixture
def arch(rt, arch_people):  # noqa: F811
    return rt


# -- 档号 well-formedness (generated cases) ---------------------------------------------------------
def _codes(n=300, seed=9):
    rnd = random.Random(seed)
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for _ in range(n):
        fonds = "".join(rnd.choice(alnum) for _ in range(4))
        unit = "".join(rnd.choice(alnum) for _ in range(rnd.randint(1, 10)))
        yield fonds, rnd.randint(1900, 2999), rnd.choice(["Y", "D30", "D10"]), unit, rnd.randint(1, 9999)


@pytest.mark.parametrize("fonds,year,retention,unit,number", list(_codes()))
def test_formatted_codes_are_well_formed_and_round_trip(fonds, year, retention, unit, number):
    code = format_code(fonds, year, retention, unit, number)
    assert is_well_formed(code)
    assert str(parse_code(code)) == code
    assert code.split("-")[-1] == f"{number:04d}"


def _mutations(code: str):
    yield code.replace("WS·", "WS-")  # the 门类·年度 separator is a middle dot
    yield code.replace("-", "", 1)
    yield code[:-4] + code[-3:]  # three-digit 件号
    yield code.replace("·", "·0", 1)  # five-digit year
    yield code.lower()
    yield code + "-1"
    yield " " + code
    parts = code.split("-")
    yield "-".join([parts[0], parts[1], "D20", *parts[3:]])
    yield "-".join([parts[0] + "X", *parts[1:]])
    yield code[:-4] + "0000"


@pytest.mark.parametrize("code,bad", [
    (c, m) for c in ["J012-WS·2025-D30-BGS-0042", "Z109-WS·2022-Y-BGS-0001", "A1B2-WS·1999-D10-SCZR-9999"]
    for m in _mutations(c)])
def test_malformed_codes_are_named(code, bad):
    assert is_well_formed(code)
    assert code_problem(bad) is not None, bad


def test_the_standard_examples():
    assert format_code("J012", 2025, "D30", "BGS", 42) == "J012-WS·2025-D30-BGS-0042"
    assert format_code("Z109", 2022, "Y", "BGS", 1) == "Z109-WS·2022-Y-BGS-0001"
    with pytest.raises(ValueError):
        format_code("J12", 2025, "D30", "BGS", 1)


# -- filing ---------------------------------------------------------------------------------------------
def test_archivist_files_a_regulators_pdf_with_a_gapless_number(arch):
    with arch.factory() as s:
        u = users(s)
        docs = [upload_pdf(arch, s, "zjj_staff", f"住建局文件{i}", pages=2) for i in range(3)]
        svc = service(arch, s)
        items = [svc.file(u["zjj_staff"], svc.bundle(u["zjj_staff"], document_id=d.id), "D30") for d in docs]
        s.commit()
        year = docs[0].created_at.year
        assert [i.archival_code for i in items] == [f"J012-WS·{year}-D30-BGS-{n:04d}" for n in (1, 2, 3)]
        first = items[0]
        assert (first.fonds, first.year, first.retention, first.unit, first.item_number, first.pages) == \
               ("J012", year, "D30", "BGS", 1, 2)
        assert first.last_check_passed is True
        assert {p.role for p in first.parts} == {"main", "stamped"}


def test_other_departments_get_404_and_non_archivists_403_and_twice_is_409(arch):
    with arch.factory() as s:
        u = users(s)
        doc = upload_pdf(arch, s, "zjj_staff", "住建局文件")
        svc = service(arch, s)
        with pytest.raises(NotFound):
            svc.bundle(u["scjg_staff"], document_id=doc.id)  # another regulator's archivist
        with pytest.raises(Forbidden):
            svc.bundle(u["zjj_leader"], document_id=doc.id)  # same department, not an archivist
        svc.file(u["zjj_staff"], svc.bundle(u["zjj_staff"], document_id=doc.id), "D10")
        s.commit()
        with pytest.raises(Conflict):
            svc.file(u["zjj_staff"], svc.bundle(u["zjj_staff"], document_id=doc.id), "D10")


def test_a_non_archival_format_is_not_filed_and_the_reason_is_named(arch):
    with arch.factory() as s:
        u = users(s)
        doc = arch.documents(s).upload(u["zjj_staff"], io.BytesIO("纯文本".encode()), "说明.txt", "说明")
        svc = service(arch, s)
        from archive_service.archive.service import FilingRefused

        with pytest.raises(FilingRefused) as exc:
            svc.file(u["zjj_staff"], svc.bundle(u["zjj_staff"], document_id=doc.id), "D10")
        assert "格式为归档格式" in exc.value.message
        s.rollback()
        assert s.scalar(select(ArchiveItem.id)) is None
        counter = s.scalar(select(ItemCounter))
        assert counter is None or counter.last == 0  # the number was given back


def test_an_issued_letter_files_as_one_item_and_the_original_still_verifies(arch):
    from correspondence.pki import key_source
    from correspondence.signing import verify_pdf

    with arch.factory() as s:
        letter = issue_letter(arch, s, "关于归档测试的函")
        u = users(s)
        svc = service(arch, s)
        item = svc.file(u["archivist"], svc.bundle(u["archivist"], letter_id=letter.id), "Y", "SCZR")
        s.commit()
        assert item.archival_code.startswith("J001-WS·") and item.archival_code.endswith("-Y-SCZR-0001")
        assert item.doc_number == letter.number and item.responsible == letter.issuer.official_name
        assert item.doc_type == "函"  # 责任者: the 全称
        roles = [p.role for p in item.parts]
        assert roles == ["main", "docx", "sheet", "stamped"]
        assert item.last_check_passed, [r.results for r in svc.reports(item)]
        roots = key_source(arch.settings).trust_roots()
        main = next(p for p in item.parts if p.role == "main")
        original = b"".join(arch.store.open(main.sha256))
        assert verify_pdf(original, roots).ok
        stamped = next(p for p in item.parts if p.role == "stamped")
        copy = b"".join(arch.store.open(stamped.sha256))
        assert copy != original
        text = PdfReader(io.BytesIO(copy)).pages[0].extract_text()
        assert "J001" in text and f"{item.item_number:04d}" in text and "SCZR" in text
        # filing the letter's PDF by its document id is the same 件: 409
        with pytest.raises(Conflict):
            svc.file(u["archivist"], svc.bundle(u["archivist"], document_id=main.document_id), "Y")


def test_a_filed_document_refuses_new_versions(arch):
    with arch.factory() as s:
        u = users(s)
        doc = upload_pdf(arch, s, "zjj_staff", "住建局文件")
        svc = service(arch, s)
        item = svc.file(u["zjj_staff"], svc.bundle(u["zjj_staff"], document_id=doc.id), "D10")
        s.commit()
        with pytest.raises(Conflict) as exc:
            arch.documents(s).add_version(u["zjj_staff"], doc, io.BytesIO(b"%PDF-1.4 new"), "new.pdf")
        assert item.archival_code in exc.value.message
