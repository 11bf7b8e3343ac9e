"""PAdES signatures on issued PDFs (pyHanko): sign at 印发, verify anywhere.

``sign_pdf`` adds a PAdES B-B signature (``/SubFilter /ETSI.CAdES.detached``, SHA-256) of the issuing
department as an incremental update: an approval signature, so co-issuing departments can add theirs.
``bytes_reserved`` is fixed so pyHanko signs once instead of twice to size the field.

``verify_pdf`` checks every embedded signature against the given trust roots without network access
(our certificates carry no CRL/OCSP addresses) and reports, in Chinese, who signed, when, whether the
bytes are intact and whether the certificate chains to a trusted root.

The letter workflow calls::

    keys = correspondence.pki.key_source(runtime.settings)     # local CA or PKCS#12 folder
    signed = sign_pdf(pdf_bytes, department, signer_name=user.full_name, keys=keys)
    report = verify_pdf(signed, keys.trust_roots())
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import IO

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.ades.api import CAdESSignedAttrSpec, SignerAttrSpec
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from archive_service.errors import Unprocessable

from .layout import PAGE_H
from .pki import DepartmentLike, SigningMaterial

BYTES_RESERVED = 16384
SEAL_PX = 330  # the seal image's largest side in the signed PDF
FIELD_PREFIX = "IssueSignature"
CHINA = timezone(timedelta(hours=8))


# -- signing --------------------------------------------------------------------------------------
def _asn1_cert(cert) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, crypto_x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if isinstance(cert, (bytes, bytearray)):
        if b"-----BEGIN" in cert:
            cert = crypto_x509.load_pem_x509_certificate(bytes(cert)).public_bytes(serialization.Encoding.DER)
        return asn1_x509.Certificate.load(bytes(cert))
    raise TypeError(f"not a certificate: {type(cert).__name__}")


def make_signer(material: SigningMaterial) -> signers.SimpleSigner:
    key_der = material.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    chain = [_asn1_cert(c) for c in material.chain]
    return signers.SimpleSigner(signing_cert=_asn1_cert(material.cert),
                                signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
                                cert_registry=SimpleCertificateStore.from_certs(chain))


def _field_name(reader: PdfFileReader) -> str:
    taken = {name for name, _value, _ref in enumerate_sig_fields(reader, filled_status=None)}
    n = 1
    while f"{FIELD_PREFIX}{n}" in taken:
        n += 1
    return f"{FIELD_PREFIX}{n}"


@dataclass(frozen=True)
class SealStamp:
    """The visible appearance of a signature: the seal image, centred at (cx, cy) mm from the top-left
    corner of page ``page`` (1-based), ``diameter`` mm across."""

    image: Path
    page: int
    cx: float
    cy: float
    diameter: float = 42.0


def _role(title: str, person: str) -> cms.AttCertAttribute:
    """A claimed role (CAdES signer-attributes-v2): e.g. 签发人 局长李明."""
    name = asn1_x509.GeneralName(name="directory_name", value=asn1_x509.Name.build(
        {"common_name": person, "title": title}, use_printable=False))
    return cms.AttCertAttribute({"type": "role", "values": [cms.RoleSyntax({"role_name": name})]})


@lru_cache(maxsize=32)
def _seal_image(path: str, _mtime: int):
    """The seal image as RGBA at most SEAL_PX across (42 mm at about 200 dpi): big seal files are
    reduced once per process, not at every 印发."""
    from PIL import Image

    with Image.open(path) as img:
        image = img.convert("RGBA")
    if max(image.size) > SEAL_PX:
        image = image.resize((SEAL_PX, SEAL_PX * image.height // image.width), Image.Resampling.LANCZOS)
    return image


def _stamp(seal: SealStamp, page_height_pt: float):
    """pyHanko's stamp style and field spec placing the seal image."""
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.sign.fields import SigFieldSpec
    from pyhanko.stamp import StaticStampStyle

    mm = 72 / 25.4
    r = seal.diameter / 2
    box = (round((seal.cx - r) * mm), round(page_height_pt - (seal.cy + r) * mm),
           round((seal.cx + r) * mm), round(page_height_pt - (seal.cy - r) * mm))  # whole points
    image = _seal_image(str(seal.image), seal.image.stat().st_mtime_ns)
    style = StaticStampStyle(background=PdfImage(image), background_opacity=1.0, border_width=0)
    return style, lambda name: SigFieldSpec(name, on_page=seal.page - 1, box=box)


@dataclass(frozen=True)
class FieldBox:
    """An empty signature field (a reserved box for a later signer): ``page`` 1-based, ``box`` in points
    (x1, y1, x2, y2) from the page's bottom-left corner."""

    name: str
    page: int
    box: tuple[int, int, int, int]


@lru_cache(maxsize=1)
def stamp_font_file() -> str:
    """A single-face TrueType file with CJK glyphs for text stamps (pyHanko embeds a subset): the 楷体
    role's face (LXGW WenKai where installed); a face of a .ttc collection is extracted once into the
    font cache."""
    from archive_service.rendering.fontbuild import cache_dir
    from archive_service.rendering.fonts import default_files

    spec = default_files()["kaiti"]
    path, _, index = spec.partition("#")
    if not index and not path.lower().endswith(".ttc"):
        return path
    from fontTools.ttLib import TTCollection

    out = cache_dir() / f"stamp-{Path(path).stem}-{index or 0}.ttf"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        TTCollection(path).fonts[int(index or 0)].save(str(tmp))
        tmp.replace(out)
    return str(out)


def _text_stamp(text: str, font_size: int = 8):
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    box = TextBoxStyle(font=GlyphAccumulatorFactory(stamp_font_file(), font_size=font_size), font_size=font_size,
                       leading=round(font_size * 1.5))
    return TextStampStyle(stamp_text=text.replace("%", "%%"), text_box_style=box, border_width=0)


def sign_pdf(pdf_bytes: bytes, department: DepartmentLike, signer_name: str | None = None,
             reason: str = "印发", location: str = "石城县", *, keys, seal: SealStamp | None = None,
             roles: Sequence[tuple[str, str]] = (), signer: signers.Signer | None = None,
             field: str | None = None, stamp_text: str | None = None, reserve: Sequence[FieldBox] = ()) -> bytes:
    """Return ``pdf_bytes`` with a PAdES B-B signature of ``department`` appended.

    ``keys`` is a key source from ``correspondence.pki.key_source(settings)``; with the local CA the
    department's certificate is issued on first use. ``signer_name`` (at 印发: the 签发人 who approved the
    letter) goes into the signature dictionary's /Name; the certificate identifies the department.
    ``roles`` — (title, person) pairs such as ("签发人", "局长李明"), ("印发", "文书周丽") — are signed
    attributes (CAdES signer-attributes-v2, claimed roles). ``seal`` makes the seal image the
    signature's visible appearance on the page. ``signer`` (``make_signer``) saves loading the key again
    when one department signs several files in a row.

    ``reserve`` adds empty signature fields in the same revision (covered by this signature), so a later
    signer can sign into one (``field``) as an allowed modification that keeps this signature valid;
    ``stamp_text`` (lines of Chinese text) is then that later signature's visible appearance in the box.
    """
    _require_pdf_header(pdf_bytes[:1024])
    signer = signer or make_signer(keys.material(department))  # ``signer``: made once for several files
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
        field_name = field or _field_name(writer.prev)
        if reserve:
            from pyhanko.sign.fields import SigFieldSpec, append_signature_field

            for spec in reserve:
                append_signature_field(writer, SigFieldSpec(spec.name, on_page=spec.page - 1, box=spec.box))
        cades = None
        if roles:
            cades = CAdESSignedAttrSpec(signer_attributes=SignerAttrSpec(
                claimed_attrs=[_role(title, person) for title, person in roles], certified_attrs=[]))
        meta = signers.PdfSignatureMetadata(
            field_name=field_name, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
            reason=reason, location=location, name=signer_name, cades_signed_attr_spec=cades)
        if stamp_text is not None:
            out = signers.PdfSigner(meta, signer, stamp_style=_text_stamp(stamp_text)) \
                .sign_pdf(writer, bytes_reserved=BYTES_RESERVED)
        elif seal is None:
            out = signers.sign_pdf(writer, meta, signer, bytes_reserved=BYTES_RESERVED)
        else:
            style, field_spec = _stamp(seal, PAGE_H * 72 / 25.4)  # issued letters are A4
            out = signers.PdfSigner(meta, signer, stamp_style=style, new_field_spec=field_spec(field_name)) \
                .sign_pdf(writer, bytes_reserved=BYTES_RESERVED)
    except (PdfError, SigningError, ValueError, KeyError) as exc:
        raise Unprocessable(f"PDF 签名失败：{exc}") from None
    return out.getvalue()


# -- verification ---------------------------------------------------------------------------------
@dataclass
class SignatureReport:
    field_name: str
    department: str | None = None
    department_code: str | None = None
    organization: str | None = None
    signer_name: str | None = None
    reason: str | None = None
    location: str | None = None
    signing_time: datetime | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    covers_whole_file: bool = False
    ok: bool = False
    issuer: str | None = None
    certificate_serial: str | None = None
    certificate_sha256: str | None = None
    summary: str = ""

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["signing_time"] = self.signing_time.isoformat() if self.signing_time else None
        d["signing_time_local"] = _local(self.signing_time)
        return d


@dataclass
class VerificationReport:
    signatures: list[SignatureReport] = field(default_factory=list)

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def intact(self) -> bool:
        return self.signed and all(s.intact for s in self.signatures)

    @property
    def valid(self) -> bool:
        return self.signed and all(s.valid for s in self.signatures)

    @property
    def trusted(self) -> bool:
        return self.signed and all(s.trusted for s in self.signatures)

    @property
    def ok(self) -> bool:
        return self.signed and all(s.ok for s in self.signatures)

    @property
    def main(self) -> SignatureReport | None:
        """The signature to headline: the first failing one, else the issuing (first) one."""
        if not self.signatures:
            return None
        return next((s for s in self.signatures if not s.ok), self.signatures[0])

    @property
    def summary(self) -> str:
        main = self.main
        if main is None:
            return "此 PDF 文件没有电子签名。"
        line = main.summary
        if len(self.signatures) > 1:
            good = sum(s.ok for s in self.signatures)
            line = f"共 {len(self.signatures)} 个签名，{good} 个有效。{line}"
        return line

    def to_dict(self) -> dict:
        main = self.main
        return {"signed": self.signed, "intact": self.intact, "valid": self.valid, "trusted": self.trusted,
                "ok": self.ok, "summary": self.summary,
                "department": main.department if main else None,
                "signer_name": main.signer_name if main else None,
                "signing_time": main.signing_time.isoformat() if main and main.signing_time else None,
                "signatures": [s.to_dict() for s in self.signatures]}


def _local(at: datetime | None) -> str | None:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if at else None


def _utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC) if at else None


def _require_pdf_header(head: bytes) -> None:
    if b"%PDF-" not in head:
        raise Unprocessable("文件不是 PDF 格式，无法验证或签名")


def _text(value) -> str | None:
    if value is None:
        return None
    return str(value)


def _summary(s: SignatureReport) -> str:
    who = s.department or "未知单位"
    if s.signer_name:
        who += f"（{s.signer_name}）"
    when = f"于 {_local(s.signing_time)} " if s.signing_time else ""
    if not s.intact:
        return f"签名无效：{who}{when}签署后，文件内容已被改动，与签名不符。"
    if not s.valid:
        return f"签名无效：{who}的签名值校验失败。"
    if not s.trusted:
        return (f"签名完整，但签名证书不受信任：{who}{when}签署，证书由“{s.issuer or '未知机构'}”签发，"
                "不在本系统信任的根证书之列。")
    if not s.ok:
        return f"签名本身完整，但文件在{who}签署后有不允许的修改。"
    tail = ("签署后文件未被改动" if s.covers_whole_file
            else "签署后文件有追加的修订（如其他单位的会签），已签署部分未被改动")
    return f"签名有效：{who}{when}签署，{tail}，签名证书受信任（{s.issuer}）。"


def _name_attr(name: asn1_x509.Name, key: str) -> str | None:
    value = name.native.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    return value


def _report(embedded, context: ValidationContext) -> SignatureReport:
    sig_obj = embedded.sig_object
    rep = SignatureReport(field_name=str(embedded.field_name), signer_name=_text(sig_obj.get("/Name")),
                          reason=_text(sig_obj.get("/Reason")), location=_text(sig_obj.get("/Location")))
    try:
        cert = embedded.signer_cert
        rep.department = _name_attr(cert.subject, "common_name")
        rep.department_code = _name_attr(cert.subject, "organizational_unit_name")
        rep.organization = _name_attr(cert.subject, "organization_name")
        rep.issuer = _name_attr(cert.issuer, "common_name")
        rep.certificate_serial = format(cert.serial_number, "x")
        rep.certificate_sha256 = cert.sha256.hex()
        rep.signing_time = _utc(embedded.self_reported_timestamp)
        status = validate_pdf_signature(embedded, context)
    except Exception:
        rep.summary = _summary(rep)
        return rep
    rep.intact, rep.valid, rep.trusted = bool(status.intact), bool(status.valid), bool(status.trusted)
    rep.signing_time = _utc(status.signer_reported_dt or rep.signing_time)
    rep.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    rep.ok = bool(status.bottom_line)
    rep.summary = _summary(rep)
    return rep


def verify_pdf(pdf: bytes | IO[bytes], trust_roots: Iterable) -> VerificationReport:
    """Validate every signature of ``pdf`` (bytes or a seekable binary stream) against ``trust_roots``
    (certificates: ``cryptography`` or ``asn1crypto`` objects, or PEM/DER bytes)."""
    stream = io.BytesIO(pdf) if isinstance(pdf, (bytes, bytearray)) else pdf
    stream.seek(0)
    _require_pdf_header(stream.read(1024))
    stream.seek(0)
    roots = [_asn1_cert(c) for c in trust_roots]
    try:
        reader = PdfFileReader(stream, strict=False)
        embedded = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise Unprocessable(f"无法解析 PDF 文件：{exc}") from None
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    return VerificationReport([_report(sig, context) for sig in embedded])
