"""Signing keys: the embedded local CA, or PKCS#12 files in production.

Embedded default (``ensure_pki``): ``<instance>/pki/`` (mode 0700) holds ``ca.pem`` + ``ca.key`` and
``departments/<CODE>.pem`` + ``<CODE>.key`` — one ECDSA P-256 key and certificate per department
(subject CN = the department's 全称, OU = department code, O = 石城县人民政府). Private keys are PKCS#8 PEM
with mode 0600; files are written to a temporary name and renamed, under a file lock, so concurrent
processes never see half a key. Certificates are (re)issued lazily: when missing, when the
department's name or code changed, when issued by another CA, or when less than 30 days remain.

Production (``ARCHIVE_SIGNING_PKCS12_DIR``): ``<dir>/<CODE>.p12`` per department, all with the
password ``ARCHIVE_SIGNING_PKCS12_PASSWORD``. File names are built only from department codes that
match ``CODE_RE`` — never from raw user input.

This module uses ``cryptography`` only; ``signing.py`` turns the material into a pyHanko signer.
"""
from __future__ import annotations

import fcntl
import os
import re
import secrets
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from archive_service.errors import Unprocessable

#: Department codes usable in file names (the directory's own code rule: letters, digits, CJK).
CODE_RE = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff]{1,20}$")

ORGANIZATION = "石城县人民政府"
LOCALITY = "石城县"
CA_COMMON_NAME = "石城县电子公文签名根证书 {tag}"  # tag: tells instances' CAs apart
CA_YEARS = 20
CERT_YEARS = 5
RENEW_BEFORE = timedelta(days=30)


class DepartmentLike(Protocol):
    name: str
    code: str


def common_name(department: DepartmentLike) -> str:
    """The certificate's CN: the department's 全称 where it has one (archive_service Department)."""
    return getattr(department, "official_name", "") or department.name


@dataclass
class SigningMaterial:
    """What a signer needs: the department's key and certificate, and the chain up to the root."""
    key: PrivateKeyTypes  # EC here; RSA or EC from PKCS#12
    cert: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)


@dataclass
class PkiResult:
    ca_created: bool
    issued: list[str]      # department codes given a new certificate in this call
    present: list[str]     # department codes whose certificate was already fine


def check_code(code: str) -> str:
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise Unprocessable(f"部门代码不合规，无法确定签名证书：{code!r}")
    return code


def _now() -> datetime:
    return datetime.now(UTC)


# -- files ----------------------------------------------------------------------------------------
def pki_dir(instance_dir: Path | str) -> Path:
    return Path(instance_dir) / "pki"


def ca_cert_path(instance_dir: Path | str) -> Path:
    return pki_dir(instance_dir) / "ca.pem"


def _dept_paths(instance_dir, code: str) -> tuple[Path, Path]:
    base = pki_dir(instance_dir) / "departments"
    code = check_code(code)
    return base / f"{code}.pem", base / f"{code}.key"


def _mkdir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def _locked(instance_dir):
    base = pki_dir(instance_dir)
    _mkdir(base)
    fd = os.open(base / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(path: Path) -> PrivateKeyTypes:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


# -- the local CA ---------------------------------------------------------------------------------
def _ca_name() -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, LOCALITY),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME.format(tag=secrets.token_hex(3).upper())),
    ])


def _dept_name(name: str, code: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, LOCALITY),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, code),
        x509.NameAttribute(NameOID.COMMON_NAME, _fit(name)),
    ])


def _fit(text: str, limit: int = 64) -> str:
    """X.509 caps a common name at 64 bytes (21 Chinese characters); longer names are shortened."""
    if len(text.encode("utf-8")) <= limit:
        return text
    while len((text + "…").encode("utf-8")) > limit:
        text = text[:-1]
    return text + "…"


def _create_ca(instance_dir) -> tuple[object, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    name = _ca_name()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    base = pki_dir(instance_dir)
    _write_atomic(base / "ca.key", _key_pem(key), 0o600)
    _write_atomic(base / "ca.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return key, cert


def _load_ca(instance_dir):
    """The CA's key and certificate; None when neither exists. Half a CA is never replaced silently:
    a new CA would leave every letter signed so far untrusted."""
    base = pki_dir(instance_dir)
    has_cert, has_key = (base / "ca.pem").exists(), (base / "ca.key").exists()
    if has_cert and has_key:
        return _load_key(base / "ca.key"), x509.load_pem_x509_certificate((base / "ca.pem").read_bytes())
    if has_cert or has_key:
        missing = "ca.key" if has_cert else "ca.pem"
        raise Unprocessable(f"本地签名根证书不完整（缺少 {base / missing}），请从备份恢复后重试")
    return None


def load_ca_cert(instance_dir) -> x509.Certificate | None:
    path = ca_cert_path(instance_dir)
    return x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None


def _issue(instance_dir, ca_key, ca_cert: x509.Certificate, name: str, code: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    not_after = min(now + timedelta(days=365 * CERT_YEARS), ca_cert.not_valid_after_utc)
    cert = (x509.CertificateBuilder().subject_name(_dept_name(name, code)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = _dept_paths(instance_dir, code)
    _mkdir(cert_path.parent)
    _write_atomic(key_path, _key_pem(key), 0o600)  # key first: a certificate never lacks its key
    _write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _current(instance_dir, ca_cert: x509.Certificate | None, name: str, code: str) -> x509.Certificate | None:
    """The department's certificate if it is usable as it is, else None."""
    cert_path, key_path = _dept_paths(instance_dir, code)
    if ca_cert is None or not cert_path.exists() or not key_path.exists():
        return None
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):  # another issuer, or a bad signature
        return None
    if cert.subject != _dept_name(name, code) or cert.not_valid_after_utc - _now() < RENEW_BEFORE:
        return None
    return cert


def ensure_pki(instance_dir: Path | str, departments: Iterable[DepartmentLike]) -> PkiResult:
    """Create the local CA and a certificate per department, where missing or stale (idempotent)."""
    departments = list(departments)
    for d in departments:
        check_code(d.code)
    with _locked(instance_dir):
        return _ensure(instance_dir, departments)


def _ensure(instance_dir, departments: list) -> PkiResult:
    """``ensure_pki`` with the lock held."""
    loaded = _load_ca(instance_dir)
    ca_created = loaded is None
    ca_key, ca_cert = loaded or _create_ca(instance_dir)
    issued, present = [], []
    for d in departments:
        if _current(instance_dir, ca_cert, common_name(d), d.code) is not None:
            present.append(d.code)
        else:
            _issue(instance_dir, ca_key, ca_cert, common_name(d), d.code)
            issued.append(d.code)
    return PkiResult(ca_created, issued, present)


# -- key sources ----------------------------------------------------------------------------------
class LocalKeys:
    """The embedded default: the instance's local CA, certificates issued on first use."""

    def __init__(self, instance_dir: Path | str, extra_roots: Iterable[x509.Certificate] = ()):
        self.instance_dir = Path(instance_dir)
        self.extra_roots = list(extra_roots)

    def material(self, department: DepartmentLike) -> SigningMaterial:
        """The department's key and certificate, issued first when missing or stale.

        Read under the lock, so a concurrent re-issue never pairs one key with another certificate.
        """
        cert_path, key_path = _dept_paths(self.instance_dir, department.code)
        with _locked(self.instance_dir):
            _ensure(self.instance_dir, [department])
            ca = load_ca_cert(self.instance_dir)
            if ca is None:  # _ensure has just created it
                raise RuntimeError(f"local CA certificate missing in {self.instance_dir}")
            return SigningMaterial(_load_key(key_path), x509.load_pem_x509_certificate(cert_path.read_bytes()), [ca])

    def trust_roots(self) -> list[x509.Certificate]:
        ca = load_ca_cert(self.instance_dir)
        return ([ca] if ca is not None else []) + self.extra_roots


class Pkcs12Keys:
    """Production keys: ``<folder>/<CODE>.p12`` per department, one shared password."""

    def __init__(self, folder: Path | str, password: str | None, extra_roots: Iterable[x509.Certificate] = (),
                 instance_dir: Path | str | None = None):
        self.folder = Path(folder)
        self.password = password.encode("utf-8") if password else None
        self.extra_roots = list(extra_roots)
        self.instance_dir = instance_dir

    def path_for(self, code: str) -> Path:
        return self.folder / f"{check_code(code)}.p12"

    def material(self, department: DepartmentLike) -> SigningMaterial:
        path = self.path_for(department.code)
        if not path.is_file():
            raise Unprocessable(f"未找到 {department.name} 的签名证书文件（{path.name}），请联系系统管理员")
        try:
            key, cert, others = pkcs12.load_key_and_certificates(path.read_bytes(), self.password)
        except ValueError:
            raise Unprocessable(f"{department.name} 的签名证书文件无法打开（密码错误或文件损坏）") from None
        if key is None or cert is None:
            raise Unprocessable(f"{department.name} 的签名证书文件中没有私钥或证书")
        return SigningMaterial(key, cert, list(others or []))

    def missing(self, departments: Iterable[DepartmentLike]) -> list[str]:
        return [d.code for d in departments if not self.path_for(d.code).is_file()]

    def trust_roots(self) -> list[x509.Certificate]:
        """The configured roots, plus the local CA so letters signed before the switch still verify."""
        local = load_ca_cert(self.instance_dir) if self.instance_dir else None
        return self.extra_roots + ([local] if local is not None else [])


def load_certificates(path: Path | str) -> list[x509.Certificate]:
    """Certificates from a PEM bundle (or a single DER file)."""
    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def key_source(settings) -> LocalKeys | Pkcs12Keys:
    """The key source configured by ``settings`` (archive_service.settings.Settings)."""
    roots_file = getattr(settings, "signing_trust_roots", None)
    extra = load_certificates(roots_file) if roots_file else []
    folder = getattr(settings, "signing_pkcs12_dir", None)
    if folder:
        return Pkcs12Keys(folder, getattr(settings, "signing_pkcs12_password", None), extra, settings.instance)
    return LocalKeys(settings.instance, extra)
