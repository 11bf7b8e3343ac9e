"""Settings read from the environment, with embedded defaults under the instance folder.

Every setting is listed in ``SETTINGS`` and must be documented in README.md (a test checks it).
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

#: name -> one-line description (the README must mention every name).
SETTINGS: dict[str, str] = {
    "ARCHIVE_INSTANCE": "instance folder (default ./instance)",
    "ARCHIVE_DATABASE_URL": "SQLAlchemy URL (default SQLite file in the instance)",
    "ARCHIVE_STORAGE_URL": "object store: file:///path or s3://ACCESS:SECRET@host:port/bucket?secure=false",
    "ARCHIVE_SEARCH_URL": "search backend: unset or tantivy:///path (embedded index), or http(s)://… (Elasticsearch 8)",
    "ARCHIVE_SECRET_KEY": "session signing key (generated into the instance on first init)",
    "ARCHIVE_AUDIT_KEY": ("HMAC key of the audit chain, kept outside the database (generated into the instance on "
                          "first use)"),
    "ARCHIVE_AUDIT_ANCHOR_MINUTES": ("minutes between audit-chain anchors written by the worker to the object store "
                                     "(default 60)"),
    "ARCHIVE_AUDIT_ANCHOR_RETENTION_DAYS": "days an audit anchor is locked in an object-lock bucket (default 3650)",
    "ARCHIVE_MAX_UPLOAD_MB": "largest accepted upload in MiB (default 2048)",
    "ARCHIVE_UPLOAD_MEDIA_TYPES": ("comma-separated allow-list of detected upload media types (default: documents, "
                                   "images, zip, audio, video)"),
    "ARCHIVE_UPLOAD_EXTENSIONS": ("comma-separated allow-list of upload file name extensions (default: matching the "
                                  "media types)"),
    "ARCHIVE_MAX_BODY_KB": "largest accepted body of a non-upload request in KiB (default 1024)",
    "ARCHIVE_LOGIN_RATE": "failed logins allowed per user name and address per 15 minutes (default 5)",
    "ARCHIVE_LOGIN_RATE_ADDRESS": ("failed logins allowed per client address across user names per 15 minutes (default "
                                   "20)"),
    "ARCHIVE_TOKEN_DAYS": "days an API bearer token lives (default 30)",
    "ARCHIVE_GC_GRACE_HOURS": "age before an unreferenced blob may be collected (default 24)",
    "ARCHIVE_WORKER_INTERVAL": "seconds between worker polls (default 0.5)",
    "ARCHIVE_FONT_FANGSONG": ("TrueType file for 仿宋 body text (path or path#index; default FandolFang when "
                              "built with make fonts-fandol, else Debian UMing)"),
    "ARCHIVE_FONT_TITLE": ("TrueType file for 小标宋 title and masthead (default the built Noto Serif CJK SC Bold, "
                           "else Debian UMing drawn bolder)"),
    "ARCHIVE_FONT_HEITI": ("TrueType file for 黑体 level-1 headings (default the built Noto Sans CJK SC Bold, "
                           "else WenQuanYi Zen Hei)"),
    "ARCHIVE_FONT_KAITI": "TrueType file for 楷体 level-2 headings (default LXGW WenKai, else Debian UKai)",
    "ARCHIVE_FONT_CACHE": ("folder of the faces `archive-service fonts build` converts (default "
                           "~/.cache/archive-service/fonts)"),
    "ARCHIVE_HANDLING_DAYS": "working days an incoming letter's handler gets by default (default 10)",
    "ARCHIVE_SMTP_URL": ("SMTP server for the daily digest of unread notifications: smtp://[user:password@]host[:port]"
                         "[?starttls=1] or smtps://… (default none: no e-mail)"),
    "ARCHIVE_SMTP_FROM": "sender address of the e-mail digest (default archive@localhost)",
    "ARCHIVE_DIGEST_HOUR": "local hour (China time) from which the worker sends the daily digest (default 8)",
    "ARCHIVE_SIGNING_PKCS12_DIR": "folder of <department code>.p12 signing keys (default: the instance's local CA)",
    "ARCHIVE_SIGNING_PKCS12_PASSWORD": "password of the PKCS#12 signing files (default none)",
    "ARCHIVE_SEAL_DIR": ("folder of <department code>.png seal images (transparent PNG, at most 2 MB; checked at "
                         "start-up); default: demo seals generated into the instance"),
    "ARCHIVE_SIGNING_TRUST_ROOTS": "PEM file of further root certificates trusted when verifying signatures",
    "ARCHIVE_S3_CONNECT_TIMEOUT": "seconds to wait for a connection to the S3 store (default 3)",
    "ARCHIVE_S3_READ_TIMEOUT": "seconds to wait for each read from or write to the S3 store (default 20)",
    "ARCHIVE_S3_RETRIES": "retries of a refused connection or an S3 5xx answer, never of a timed-out read (default 2)",
    "ARCHIVE_READY_TIMEOUT": "seconds /readyz waits for the database and the object store (default 2)",
    "ARCHIVE_MAX_VERIFY_MB": ("largest PDF accepted for signature verification in MiB (default 50, at most the upload "
                              "limit)"),
    "ARCHIVE_EXTRACT_MEMORY_MB": "address-space limit of the extraction sandbox child in MiB (default 1536)",
    "ARCHIVE_OCR_ENGINE": "rapidocr (default), tesseract or off; rapidocr falls back to tesseract below 1200 MiB",
    "ARCHIVE_EXTRACT_CPU_SECONDS": "CPU seconds per file, or per OCR page, in the sandbox (default 60)",
    "ARCHIVE_EXTRACT_TIMEOUT": "wall-clock seconds per file, or per OCR page, in the sandbox (default 120)",
    "ARCHIVE_EXTRACT_MAX_MB": "larger files are not extracted (default 200)",
    "ARCHIVE_EXTRACT_MAX_CHARS": "stored extracted text is cut at this many characters (default 2000000)",
    "ARCHIVE_EXTRACT_MAX_UNZIPPED_MB": "DOCX/XLSX: largest total uncompressed size in MiB (default 100)",
    "ARCHIVE_EXTRACT_MAX_ZIP_RATIO": "DOCX/XLSX: largest compression ratio of an entry over 1 MiB (default 100)",
    "ARCHIVE_EXTRACT_MAX_MEGAPIXELS": "largest image, or PDF page at the OCR resolution, in megapixels (default 100)",
    "ARCHIVE_OCR_MAX_PAGES": "pages of one PDF or TIFF that are OCR'd (default 100)",
}


@dataclass
class Settings:
    instance: Path
    database_url: str
    storage_url: str
    search_url: str | None
    secret_key: str
    max_upload_bytes: int
    audit_key: str = ""
    audit_anchor_minutes: float = 60.0
    audit_anchor_retention_days: int = 3650
    login_rate: int = 5
    login_rate_address: int = 20
    token_days: float = 30.0
    upload_media_types: str | None = None
    upload_extensions: str | None = None
    max_body_bytes: int = 1024 * 1024
    gc_grace_hours: float = 24.0
    worker_interval: float = 0.5
    handling_days: int = 10
    smtp_url: str | None = None
    smtp_from: str = "archive@localhost"
    digest_hour: int = 8
    signing_pkcs12_dir: Path | None = None
    seal_dir: Path | None = None
    signing_pkcs12_password: str | None = None
    signing_trust_roots: Path | None = None
    s3_connect_timeout: float = 3.0
    s3_read_timeout: float = 20.0
    s3_retries: int = 2
    ready_timeout: float = 2.0
    max_verify_bytes: int = 50 * 1024 * 1024
    extract_memory_mb: int = 1536
    ocr_engine: str = "rapidocr"
    extract_cpu_seconds: int = 60
    extract_timeout: int = 120
    extract_max_mb: int = 200
    extract_max_chars: int = 2_000_000
    extract_max_unzipped_mb: int = 100
    extract_max_zip_ratio: int = 100
    extract_max_megapixels: float = 100.0
    ocr_max_pages: int = 100
    testing: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None, read_only: bool = False, **overrides) -> Settings:
        """``read_only``: never create anything (no instance folder, no secret_key file)."""
        env = dict(os.environ if env is None else env)
        instance = Path(env.get("ARCHIVE_INSTANCE") or "instance").resolve()
        settings = cls(
            instance=instance,
            database_url=env.get("ARCHIVE_DATABASE_URL") or f"sqlite:///{instance / 'archive.sqlite3'}",
            storage_url=env.get("ARCHIVE_STORAGE_URL") or (instance / "objects").as_uri(),
            search_url=env.get("ARCHIVE_SEARCH_URL") or None,
            secret_key=env.get("ARCHIVE_SECRET_KEY") or _instance_secret(instance, create=not read_only),
            audit_key=(env.get("ARCHIVE_AUDIT_KEY")
                       or _instance_secret(instance, create=not read_only, name="audit_key")),
            audit_anchor_minutes=float(env.get("ARCHIVE_AUDIT_ANCHOR_MINUTES") or 60),
            audit_anchor_retention_days=int(env.get("ARCHIVE_AUDIT_ANCHOR_RETENTION_DAYS") or 3650),
            max_upload_bytes=int(float(env.get("ARCHIVE_MAX_UPLOAD_MB") or 2048) * 1024 * 1024),
            max_body_bytes=int(float(env.get("ARCHIVE_MAX_BODY_KB") or 1024) * 1024),
            login_rate=int(env.get("ARCHIVE_LOGIN_RATE") or 5),
            login_rate_address=int(env.get("ARCHIVE_LOGIN_RATE_ADDRESS") or 20),
            token_days=float(env.get("ARCHIVE_TOKEN_DAYS") or 30),
            upload_media_types=env.get("ARCHIVE_UPLOAD_MEDIA_TYPES") or None,
            upload_extensions=env.get("ARCHIVE_UPLOAD_EXTENSIONS") or None,
            gc_grace_hours=float(env.get("ARCHIVE_GC_GRACE_HOURS") or 24),
            worker_interval=float(env.get("ARCHIVE_WORKER_INTERVAL") or 0.5),
            handling_days=int(env.get("ARCHIVE_HANDLING_DAYS") or 10),
            smtp_url=env.get("ARCHIVE_SMTP_URL") or None,
            smtp_from=env.get("ARCHIVE_SMTP_FROM") or "archive@localhost",
            digest_hour=int(env.get("ARCHIVE_DIGEST_HOUR") or 8),
            signing_pkcs12_dir=_path_or_none(env.get("ARCHIVE_SIGNING_PKCS12_DIR")),
            signing_pkcs12_password=env.get("ARCHIVE_SIGNING_PKCS12_PASSWORD") or None,
            signing_trust_roots=_path_or_none(env.get("ARCHIVE_SIGNING_TRUST_ROOTS")),
            seal_dir=_path_or_none(env.get("ARCHIVE_SEAL_DIR")),
            s3_connect_timeout=float(env.get("ARCHIVE_S3_CONNECT_TIMEOUT") or 3),
            s3_read_timeout=float(env.get("ARCHIVE_S3_READ_TIMEOUT") or 20),
            s3_retries=int(env.get("ARCHIVE_S3_RETRIES") or 2),
            ready_timeout=float(env.get("ARCHIVE_READY_TIMEOUT") or 2),
            max_verify_bytes=min(int(float(env.get("ARCHIVE_MAX_VERIFY_MB") or 50) * 1024 * 1024),
                                 int(float(env.get("ARCHIVE_MAX_UPLOAD_MB") or 2048) * 1024 * 1024)),
            extract_memory_mb=int(env.get("ARCHIVE_EXTRACT_MEMORY_MB") or 1536),
            ocr_engine=(env.get("ARCHIVE_OCR_ENGINE") or "rapidocr").strip().lower(),
            extract_cpu_seconds=int(env.get("ARCHIVE_EXTRACT_CPU_SECONDS") or 60),
            extract_timeout=int(env.get("ARCHIVE_EXTRACT_TIMEOUT") or 120),
            extract_max_mb=int(env.get("ARCHIVE_EXTRACT_MAX_MB") or 200),
            extract_max_chars=int(env.get("ARCHIVE_EXTRACT_MAX_CHARS") or 2_000_000),
            extract_max_unzipped_mb=int(env.get("ARCHIVE_EXTRACT_MAX_UNZIPPED_MB") or 100),
            extract_max_zip_ratio=int(env.get("ARCHIVE_EXTRACT_MAX_ZIP_RATIO") or 100),
            extract_max_megapixels=float(env.get("ARCHIVE_EXTRACT_MAX_MEGAPIXELS") or 100),
            ocr_max_pages=int(env.get("ARCHIVE_OCR_MAX_PAGES") or 100),
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def extract_limits(self):
        """The sandbox's ``Limits`` from these settings."""
        from .extract import Limits, MiB
        from .ocr import choose_engine

        return Limits(max_bytes=self.extract_max_mb * MiB, max_chars=self.extract_max_chars,
                      ocr_engine=choose_engine(self.ocr_engine, self.extract_memory_mb),
                      max_unzipped=self.extract_max_unzipped_mb * MiB, max_zip_ratio=self.extract_max_zip_ratio,
                      max_pixels=int(self.extract_max_megapixels * 1_000_000), max_ocr_pages=self.ocr_max_pages,
                      memory_mb=self.extract_memory_mb, cpu_seconds=self.extract_cpu_seconds,
                      wall_seconds=self.extract_timeout)


class ConfigError(ValueError):
    """A setting or a configured file cannot be used; the message (Chinese) names it. Raised at start-up."""


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


def _instance_secret(instance: Path, create: bool = True, name: str = "secret_key") -> str:
    """Read an instance secret (``secret_key``, ``audit_key``), or generate it (mode 0600) on first
    use (unless ``create`` is off)."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    if not create:
        return ""
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
