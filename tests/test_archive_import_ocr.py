"""`archive-service import` reads the text of the scans it imports (OCR) before it returns, with a
progress bar that counts the pages read (识别中 n/m 页, issue 16); --no-ocr leaves them to the worker."""
from __future__ import annotations

import csv
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive_service.archive.models import ArchiveItem, ItemPart
from archive_service.cli import main
from archive_service.indexing_models import ExtractionJob, TextExtraction
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from archive_support import county_in
from scan_pages import pages_from_corpus, pdf_of, recall

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("tesseract") is None,
                                reason="needs poppler-utils and tesseract-ocr-chi-sim (Makefile RUN_PACKAGES)")

HEADER = ["题名", "日期", "密级", "文件名", "保管期限"]


@pytest.fixture
def scans(tmp_path, county_copy, monkeypatch):
    """An instance and a folder with one two-page scanned PDF (no text layer) and its catalogue."""
    instance, url = county_copy
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", url)
    monkeypatch.setenv("ARCHIVE_OCR_ENGINE", "tesseract")  # the quick engine; RapidOCR is tested in test_ocr
    rt = Runtime.build(Settings.from_env(), features=FEATURES)
    county_in(rt, over_small_county=True)
    pages = pages_from_corpus(2, seed=1609, max_lines=8)
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "1987-01.pdf").write_bytes(pdf_of(pages))
    with open(tmp_path / "目录.csv", "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([HEADER, ["关于县城供水管网改造的请示", "19870315", "非密", "1987-01.pdf", "D30"]])
    yield rt, folder, tmp_path / "目录.csv", "\n".join(p.text for p in pages)
    rt.engine.dispose()


def _run(*args):
    return CliRunner().invoke(main, ["import", *map(str, args), "--department", "ZJJ"], catch_exceptions=False)


def _main_document(rt) -> int:
    with rt.factory() as s:
        return s.scalar(select(ItemPart.document_id).join(ArchiveItem).where(ItemPart.role == "main"))


def test_the_import_reads_its_scans_with_a_page_progress(scans):
    rt, folder, catalogue, text = scans
    result = _run(folder, "--catalogue", catalogue)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "OCR: 识别中 1/2 页" in lines and "OCR: 识别中 2/2 页" in lines
    assert lines.index("OCR: 识别中 1/2 页") < lines.index("OCR: 识别中 2/2 页")
    assert "text: 1 file(s) extracted" in result.output
    doc = _main_document(rt)
    with rt.factory() as s:
        row = s.scalar(select(TextExtraction).where(TextExtraction.document_id == doc))
        assert (row.status, row.method) == ("ocr", "tesseract")
        assert recall(text, row.text) >= 0.85  # Tesseract's bound in test_ocr
        assert s.scalar(select(ExtractionJob).where(ExtractionJob.document_id == doc)) is None


def test_no_ocr_leaves_the_scans_to_the_worker(scans):
    rt, folder, catalogue, _text = scans
    result = _run(folder, "--catalogue", catalogue, "--no-ocr")
    assert result.exit_code == 0, result.output
    assert "识别中" not in result.output
    doc = _main_document(rt)
    with rt.factory() as s:
        assert s.scalar(select(ExtractionJob).where(ExtractionJob.document_id == doc)) is not None
        assert s.scalar(select(TextExtraction).where(TextExtraction.document_id == doc)) is None


def test_extraction_of_an_import_goes_chunk_by_chunk(scans, capsys):
    """Large imports are extracted a chunk of ids at a time (no query binds more ids than the database
    takes); a chunk with nothing waiting is passed over and the file in another chunk is still read."""
    from archive_service.cli_archive import extract_imported

    rt, folder, catalogue, _text = scans
    assert _run(folder, "--catalogue", catalogue, "--no-ocr").exit_code == 0
    doc = _main_document(rt)
    extract_imported(rt, [doc + 1000, doc], poll=0.01, chunk=1)
    assert "text: 2 file(s) extracted" in capsys.readouterr().out
    with rt.factory() as s:
        assert s.scalar(select(TextExtraction.status).where(TextExtraction.document_id == doc)) == "ocr"
        assert s.scalar(select(ExtractionJob).where(ExtractionJob.document_id == doc)) is None
