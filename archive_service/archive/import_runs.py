"""ZIP uploads of digitised records: receive and check the ZIP, queue the run (a worker imports it:
archive/jobs.py), show a run to its organisation's archivists, queue an interrupted run again."""
from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..errors import Conflict, DomainError, Forbidden, NotFound, TooLarge
from ..models import User
from .fonds import holding_organisation
from .importer import extract_zip
from .models import ImportRun


def receive_zip(stream: BinaryIO, instance: Path, limit: int) -> tuple[str, Path]:
    """Save an uploaded ZIP under ``instance``/imports (at most ``limit`` bytes), check and extract it into
    the work folder's ``files``; returns the upload's SHA-256 and the work folder. Nothing is left on refusal."""
    work = instance / "imports" / uuid.uuid4().hex
    work.mkdir(parents=True)
    zpath = work / "upload.zip"
    digest, size = hashlib.sha256(), 0
    with open(zpath, "wb") as fh:
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                shutil.rmtree(work, ignore_errors=True)
                raise TooLarge(f"文件超过大小限制（{limit // (1024 * 1024)} MB）")
            digest.update(chunk)
            fh.write(chunk)
    try:
        extract_zip(zpath, work / "files")
    except DomainError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    zpath.unlink()
    return digest.hexdigest(), work


class ImportRuns:
    """The import runs an archivist sees: those of the organisation holding the records."""

    def __init__(self, session: Session, clock: Clock, instance: Path):
        self.s = session
        self.clock = clock
        self.instance = instance

    @staticmethod
    def require_importer(user: User) -> None:
        if "archivist" not in user.roles:
            raise Forbidden("只有档案员可以导入档案")

    def queue(self, user: User, key: str, filename: str, work: Path) -> ImportRun:
        """Record a run of the extracted upload in ``work`` for a worker to import."""
        self.require_importer(user)
        org = holding_organisation(user.department)
        run = ImportRun(key=key, department_id=org.id, started_by=user.id, started_at=self.clock.now(),
                        status="queued", message=filename[:200], folder=str(work.relative_to(self.instance)))
        self.s.add(run)
        self.s.flush()
        return run

    def resume(self, run: ImportRun) -> ImportRun:
        """Queue a failed (interrupted) run again: the worker imports the rows not yet imported."""
        if run.status != "failed" or not run.folder or not (self.instance / run.folder).is_dir():
            raise Conflict("只有中断且上传文件仍在的导入可以继续")
        run.status, run.attempts, run.finished_at, run.lease_until = "queued", 0, None, None
        self.s.flush()
        return run

    def get(self, user: User, run_id: int) -> ImportRun:
        """A run of the user's organisation, re-read (a worker updates it meanwhile); 404 otherwise."""
        run = self.s.get(ImportRun, run_id)
        org = holding_organisation(user.department)
        if run is None or run.department_id != org.id or "archivist" not in user.roles:
            raise NotFound("导入记录不存在")
        self.s.refresh(run)
        return run

    def recent(self, user: User, limit: int = 20) -> list[ImportRun]:
        if "archivist" not in user.roles:
            return []
        org_id = holding_organisation(user.department).id
        return list(self.s.scalars(select(ImportRun).where(ImportRun.department_id == org_id)
                                   .order_by(ImportRun.id.desc()).limit(limit)))
