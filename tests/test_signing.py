"""PDF signing at 印发: local CA, PAdES B-B signatures, verification (library, CLI, API, UI)."""
from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from archive_service.cli import main
from archive_service.errors import Unprocessable
from archive_service.models import Department
from archive_service.settings import Settings
from correspondence.pki import LocalKeys, Pkcs12Keys, ensure_pki, key_source
from correspondence.signing import sign_pdf, verify_pdf

FONT = "/usr/share/fonts/truetype/arphic/uming.ttc"
PYHANKO = Path(sys.executable).with_name("pyhanko")
BUREAU = SimpleNamespace(name="县行政审批局", code="SPJ")
SCJG = SimpleNamespace(name="县市场监督管理局", code="SCJG")


@lru_cache(maxsize=1)
def letter_pdf() -> bytes:
    """A one-page letter made with reportlab directly (independent of the renderer)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("UMingTest", FONT, subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("UMingTest", 16)
    c.drawString(120, 700, "县行政审批局关于征求意见的函")
    c.setFont("UMingTest", 12)
    c.drawString(90, 660, "县市场监督管理局：为落实审管联动工作，现函请你局提出意见。")
    c.showPage()
    c.save()
    return buf.getvalue()


def flip_byte_in_content(pdf: bytes) -> bytes:
    data = bytearray(pdf)
    i = data.index(b"stream") + 30  # inside the first content stream, well within the signed range
    data[i] ^= 0x01
    return bytes(data)


@pytest.fixture
def keys(tmp_path):
    return LocalKeys(tmp_path / "instance")


@pytest.fixture
def signed(keys):
    return sign_pdf(letter_pdf(), BUREAU, signer_name="局长李明", keys=keys)


# -- library --------------------------------------------------------------------------------------
def test_signed_pdf_is_pades_and_verifies_against_our_ca(keys):
    before = datetime.now(UTC) - timedelta(seconds=2)
    pdf = sign_pdf(letter_pdf(), BUREAU, signer_name="局长李明", keys=keys)
    after = datetime.now(UTC) + timedelta(seconds=2)
    assert pdf.startswith(letter_pdf())  # an incremental update: the original bytes are untouched
    assert b"/ETSI.CAdES.detached" in pdf
    report = verify_pdf(pdf, keys.trust_roots())
    assert report.signed and report.intact and report.valid and report.trusted and report.ok
    sig = report.signatures[0]
    assert (sig.department, sig.department_code, sig.organization) == ("县行政审批局", "SPJ", "石城县人民政府")
    assert (sig.signer_name, sig.reason, sig.location) == ("局长李明", "印发", "石城县")
    assert sig.covers_whole_file and before <= sig.signing_time <= after
    assert report.summary.startswith("签名有效：县行政审批局（局长李明）")
    body = report.to_dict()
    assert body["ok"] and body["department"] == "县行政审批局" and body["signatures"][0]["signing_time_local"]


def test_flipped_byte_is_not_intact(keys, signed):
    report = verify_pdf(flip_byte_in_content(signed), keys.trust_roots())
    assert report.signed and not report.intact and not report.ok
    assert "已被改动" in report.summary


def test_certificate_of_another_ca_is_untrusted(tmp_path, keys):
    foreign = sign_pdf(letter_pdf(), BUREAU, keys=LocalKeys(tmp_path / "elsewhere"))
    report = verify_pdf(foreign, keys.trust_roots())
    assert report.intact and report.valid and not report.trusted and not report.ok
    assert "不受信任" in report.summary


def test_unsigned_and_non_pdf_input(keys):
    assert not verify_pdf(letter_pdf(), keys.trust_roots()).signed
    assert verify_pdf(letter_pdf(), keys.trust_roots()).summary == "此 PDF 文件没有电子签名。"
    with pytest.raises(Unprocessable, match="不是 PDF"):
        verify_pdf(b"just some text, not a pdf", keys.trust_roots())
    with pytest.raises(Unprocessable, match="不是 PDF"):
        sign_pdf(b"GIF89a...", BUREAU, keys=keys)


def test_co_issuing_department_adds_a_second_signature(keys, signed):
    both = sign_pdf(signed, SCJG, signer_name="市场负责人", keys=keys)
    report = verify_pdf(both, keys.trust_roots())
    assert [s.department for s in report.signatures] == ["县行政审批局", "县市场监督管理局"]
    assert [s.field_name for s in report.signatures] == ["IssueSignature1", "IssueSignature2"]
    assert report.ok and not report.signatures[0].covers_whole_file and report.signatures[1].covers_whole_file


def test_pyhanko_cli_accepts_our_pdfs(tmp_path, keys, signed):
    (tmp_path / "signed.pdf").write_bytes(signed)
    (tmp_path / "tampered.pdf").write_bytes(flip_byte_in_content(signed))
    ca = keys.instance_dir / "pki" / "ca.pem"
    ok = subprocess.run([str(PYHANKO), "sign", "validate", "--trust", str(ca), "--trust-replace",
                         str(tmp_path / "signed.pdf")], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "INTACT:TRUSTED,UNTOUCHED" in ok.stdout
    bad = subprocess.run([str(PYHANKO), "sign", "validate", "--trust", str(ca), "--trust-replace",
                          str(tmp_path / "tampered.pdf")], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "INVALID" in bad.stdout


# -- PKI ------------------------------------------------------------------------------------------
def test_ensure_pki_is_idempotent_with_restrictive_modes(tmp_path):
    inst = tmp_path / "instance"
    first = ensure_pki(inst, [BUREAU, SCJG])
    assert first.ca_created and sorted(first.issued) == ["SCJG", "SPJ"]
    ca_bytes = (inst / "pki" / "ca.pem").read_bytes()
    second = ensure_pki(inst, [BUREAU, SCJG])
    assert not second.ca_created and second.issued == [] and sorted(second.present) == ["SCJG", "SPJ"]
    assert (inst / "pki" / "ca.pem").read_bytes() == ca_bytes

    def mode(p):
        return stat.S_IMODE(os.stat(p).st_mode)

    assert mode(inst / "pki") == 0o700 and mode(inst / "pki" / "ca.key") == 0o600
    assert mode(inst / "pki" / "departments" / "SPJ.key") == 0o600
    cert = x509.load_pem_x509_certificate((inst / "pki" / "departments" / "SPJ.pem").read_bytes())
    subject = {a.oid: a.value for a in cert.subject}
    assert subject[NameOID.COMMON_NAME] == "县行政审批局" and subject[NameOID.ORGANIZATIONAL_UNIT_NAME] == "SPJ"
    assert subject[NameOID.ORGANIZATION_NAME] == "石城县人民政府"
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment

    # A renamed department gets a new certificate on the next run; the CA stays.
    renamed = ensure_pki(inst, [SimpleNamespace(name="县行政审批服务局", code="SPJ")])
    assert renamed.issued == ["SPJ"] and (inst / "pki" / "ca.pem").read_bytes() == ca_bytes


def test_half_a_ca_is_not_replaced(tmp_path):
    inst = tmp_path / "instance"
    ensure_pki(inst, [BUREAU])
    ca = (inst / "pki" / "ca.pem").read_bytes()
    (inst / "pki" / "ca.key").unlink()
    with pytest.raises(Unprocessable, match=r"缺少 .*ca\.key"):
        ensure_pki(inst, [SCJG])
    assert (inst / "pki" / "ca.pem").read_bytes() == ca


def test_department_codes_are_checked_before_any_file_name_is_built(tmp_path, keys):
    for code in ("../etc", "SPJ/x", "a.b", "", "X" * 21):
        with pytest.raises(Unprocessable, match="部门代码"):
            sign_pdf(letter_pdf(), SimpleNamespace(name="坏部门", code=code), keys=keys)
    assert not (keys.instance_dir / "pki" / "departments").exists() or \
        sorted(p.name for p in (keys.instance_dir / "pki" / "departments").iterdir()) == []
    assert not (tmp_path / "etc.pem").exists()


def _make_p12(folder: Path, dept, password: bytes) -> x509.Certificate:
    """A production-like PKCS#12 from a separate CA; returns that CA's certificate."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "某省电子政务CA（测试）")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=90))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dept.name),
                                     x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, dept.code)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{dept.code}.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"SPJ", key, cert, [ca], BestAvailableEncryption(password)))
    return ca


def test_pkcs12_folder_setting_switches_the_keys(tmp_path):
    folder = tmp_path / "p12"
    ca = _make_p12(folder, BUREAU, b"s3cret")
    roots = tmp_path / "roots.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    roots.write_bytes(ca.public_bytes(Encoding.PEM))
    settings = Settings.from_env(env={
        "ARCHIVE_INSTANCE": str(tmp_path / "instance"), "ARCHIVE_SECRET_KEY": "x",
        "ARCHIVE_SIGNING_PKCS12_DIR": str(folder), "ARCHIVE_SIGNING_PKCS12_PASSWORD": "s3cret",
        "ARCHIVE_SIGNING_TRUST_ROOTS": str(roots)})
    keys = key_source(settings)
    assert isinstance(keys, Pkcs12Keys) and keys.missing([BUREAU, SCJG]) == ["SCJG"]
    report = verify_pdf(sign_pdf(letter_pdf(), BUREAU, keys=keys), keys.trust_roots())
    assert report.ok and report.signatures[0].issuer == "某省电子政务CA（测试）"
    assert not (tmp_path / "instance" / "pki").exists()  # no local CA in PKCS#12 mode
    with pytest.raises(Unprocessable, match="未找到 县市场监督管理局 的签名证书文件"):
        sign_pdf(letter_pdf(), SCJG, keys=keys)
    with pytest.raises(Unprocessable, match="密码错误"):
        sign_pdf(letter_pdf(), BUREAU, keys=Pkcs12Keys(folder, "wrong"))


# -- command line ---------------------------------------------------------------------------------
def test_verify_pdf_command_exit_codes(tmp_path, monkeypatch):
    inst = tmp_path / "inst"
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(inst))
    monkeypatch.setenv("ARCHIVE_SECRET_KEY", "test")
    good = sign_pdf(letter_pdf(), BUREAU, signer_name="局长李明", keys=LocalKeys(inst))
    files = {"good.pdf": good, "tampered.pdf": flip_byte_in_content(good),
             "foreign.pdf": sign_pdf(letter_pdf(), BUREAU, keys=LocalKeys(tmp_path / "other")),
             "unsigned.pdf": letter_pdf(), "note.txt": "不是 PDF".encode()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    runner = CliRunner()

    def run(name, *extra):
        return runner.invoke(main, ["verify-pdf", str(tmp_path / name), *extra])

    ok = run("good.pdf")
    assert ok.exit_code == 0, ok.output
    assert "签名单位：县行政审批局（SPJ）" in ok.output and "签名人：局长李明" in ok.output
    assert "完整（未被篡改）：是" in ok.output and "证书受信任：是" in ok.output and "签名时间：" in ok.output
    tampered = run("tampered.pdf")
    assert tampered.exit_code == 1 and "完整（未被篡改）：否" in tampered.output
    foreign = run("foreign.pdf")
    assert foreign.exit_code == 1 and "证书受信任：否" in foreign.output
    assert run("foreign.pdf", "--trust", str(tmp_path / "other" / "pki" / "ca.pem")).exit_code == 0
    assert run("unsigned.pdf").exit_code == 1
    not_pdf = run("note.txt")
    assert not_pdf.exit_code == 1 and "不是 PDF" in not_pdf.output


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_init_creates_the_pki_idempotently(cli, tmp_path):
    first = cli("init", "--demo")
    assert first.exit_code == 0 and "CA created" in first.output
    pki = tmp_path / "inst" / "pki"
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(os.environ["ARCHIVE_DATABASE_URL"])
    with Session(engine) as s:
        codes = sorted(s.scalars(select(Department.code)))
    engine.dispose()
    assert sorted(p.stem for p in (pki / "departments").glob("*.pem")) == codes
    ca, spj = (pki / "ca.pem").read_bytes(), (pki / "departments" / "SPJ.pem").read_bytes()
    second = cli("init", "--demo")
    assert second.exit_code == 0 and "CA present" in second.output and "0 certificate(s) issued" in second.output
    assert (pki / "ca.pem").read_bytes() == ca and (pki / "departments" / "SPJ.pem").read_bytes() == spj


# -- web ------------------------------------------------------------------------------------------
@pytest.fixture
def drafter(make):
    bureau = make.department("bureau", code="SPJ")
    return make.user(make.department("section", name="市场准入审批股", parent=bureau), "drafter",
                     full_name="拟稿人张伟")


def _store_signed_letter(rt, user) -> int:
    """File a PDF signed by the user's department as a document of that department."""
    with rt.transaction() as s:
        user = s.merge(user)
        pdf = sign_pdf(letter_pdf(), user.department, signer_name=user.full_name, keys=key_source(rt.settings))
        doc = rt.documents(s).upload(user, io.BytesIO(pdf), "石审批函〔2026〕7号.pdf", "关于征求意见的函")
        return doc.id


def test_api_verifies_stored_documents_and_uploads(rt, make, drafter):
    make.document(drafter)
    doc_id = _store_signed_letter(rt, drafter)
    client, headers = make.api(drafter)
    resp = client.get(f"/api/v1/documents/{doc_id}/signature", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["ok"] and body["intact"] and body["trusted"] and body["department"] == "市场准入审批股"
    assert body["signer_name"] == "拟稿人张伟" and body["version"] == 1 and body["summary"].startswith("签名有效")

    other, other_headers = make.api(make.user())  # of another department
    assert other.get(f"/api/v1/documents/{doc_id}/signature", headers=other_headers).status_code == 404

    signed = client.get(f"/api/v1/documents/{doc_id}/content", headers=headers).data
    up = client.post("/api/v1/verify-pdf", headers=headers,
                     data={"file": (io.BytesIO(flip_byte_in_content(signed)), "改过.pdf")})
    assert up.status_code == 200 and not up.get_json()["intact"] and up.get_json()["filename"] == "改过.pdf"
    good = client.post("/api/v1/verify-pdf", headers=headers, data={"file": (io.BytesIO(signed), "函.pdf")})
    assert good.get_json()["ok"]
    not_pdf = client.post("/api/v1/verify-pdf", headers=headers,
                          data={"file": (io.BytesIO("这是文本".encode()), "a.pdf")})
    assert not_pdf.status_code == 422 and "不是 PDF" in not_pdf.get_json()["error"]["message"]
    assert client.post("/api/v1/verify-pdf", headers=headers, data={}).status_code == 422
    big = client.post("/api/v1/verify-pdf", headers=headers,
                      data={"file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (7 * 1024 * 1024)), "big.pdf")})
    assert big.status_code == 413
    assert client.post("/api/v1/verify-pdf", data={"file": (io.BytesIO(signed), "a.pdf")}).status_code in (400, 401)

    text_doc = client.get("/api/v1/documents", headers=headers).get_json()["items"]
    txt = next(d for d in text_doc if d["media_type"].startswith("text/"))
    assert client.get(f"/api/v1/documents/{txt['id']}/signature", headers=headers).status_code == 422

    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/verify-pdf"] and "get" in paths["/api/v1/documents/{id}/signature"]


def test_verify_page_shows_the_report_in_chinese(rt, make, drafter):
    doc_id = _store_signed_letter(rt, drafter)
    b = make.browser(drafter)
    page = b.get("/signatures/verify").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'type="file"' in page and "验证签名" in page
    signed = b.get(f"/documents/{doc_id}/download").data
    resp = b.post("/signatures/verify", data={"file": (io.BytesIO(signed), "函.pdf")},
                  content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "签名有效" in html and "市场准入审批股" in html and "拟稿人张伟" in html
    bad = b.post("/signatures/verify", data={"file": (io.BytesIO(b"hello"), "x.pdf")},
                 content_type="multipart/form-data")
    assert bad.status_code == 422 and "不是 PDF" in bad.get_data(as_text=True)
    no_token = b.client.post("/signatures/verify", data={"file": (io.BytesIO(signed), "函.pdf")},
                             content_type="multipart/form-data")
    assert no_token.status_code == 400
    stored = b.get(f"/signatures/documents/{doc_id}")
    assert stored.status_code == 200 and "签名有效" in stored.get_data(as_text=True)
    assert make.browser(make.user()).get(f"/signatures/documents/{doc_id}").status_code == 404
