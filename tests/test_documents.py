"""The document core: versions over digested blobs, dedupe, write order, fixity and orphans."""
import hashlib
import io
import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from archive_service.documents import collect_orphans
from archive_service.errors import NotFound, TooLarge, Unprocessable
from archive_service.fixity import run_fixity
from archive_service.models import Blob, Document, DocumentVersion, OutboxEntry
from archive_service.storage.base import blob_key
from factories import Make

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _count(s, model):
    return s.scalar(select(func.count()).select_from(model))


def test_upload_records_digests_type_audit_and_outbox(rt):
    with rt.transaction() as s:
        drafter = Make(rt, s).user()
        before_outbox = _count(s, OutboxEntry)
        doc = rt.documents(s).upload(drafter, io.BytesIO(PDF), "审批档案.pdf", "审批档案")
        v = doc.versions[0]
        assert (v.blob.sha256, v.blob.sm3, v.blob.size) == (
            hashlib.sha256(PDF).hexdigest(), hashlib.new("sm3", PDF).hexdigest(), len(PDF))
        assert v.blob.media_type == "application/pdf"
        assert v.filename == "审批档案.pdf"
        assert _count(s, OutboxEntry) == before_outbox + 1
        assert b"".join(rt.store.open(v.blob.sha256)) == PDF


def test_same_bytes_twice_store_one_blob(rt):
    with rt.transaction() as s:
        drafter = Make(rt, s).user()
        docs = rt.documents(s)
        a = docs.upload(drafter, io.BytesIO(b"same bytes"), "a.txt")
        b = docs.upload(drafter, io.BytesIO(b"same bytes"), "b.txt")
        assert a.id != b.id
        assert a.versions[0].blob_sha256 == b.versions[0].blob_sha256
        assert s.scalar(select(func.count()).select_from(Blob).where(
            Blob.sha256 == a.versions[0].blob_sha256)) == 1
    assert sum(1 for o in rt.store.list() if o.sha256 == a.versions[0].blob_sha256) == 1


def test_new_version_keeps_the_old_one(rt):
    with rt.transaction() as s:
        docs = rt.documents(s)
        user = Make(rt, s).user()
        doc = docs.upload(user, io.BytesIO(b"first"), "v.txt")
        docs.add_version(user, doc, io.BytesIO(b"second"), "v.txt")
        assert [v.number for v in doc.versions] == [1, 2]
        assert doc.current_version == 2 and doc.revision == 2
        assert b"".join(rt.store.open(docs.version(user, doc.id, 1).blob_sha256)) == b"first"


def test_empty_and_too_large_and_executable_leave_nothing(rt):
    with rt.transaction() as s:
        docs = rt.documents(s)
        user = Make(rt, s).user()
        before = (_count(s, Document), _count(s, Blob), len(list(rt.store.list())))
        with pytest.raises(Unprocessable):
            docs.upload(user, io.BytesIO(b""), "empty.txt")
        with pytest.raises(TooLarge):
            docs.upload(user, io.BytesIO(b"x" * (rt.settings.max_upload_bytes + 1)), "big.txt")
        elf = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\x00\x3e\x00" + b"\0" * 200
        with pytest.raises(Unprocessable):
            docs.upload(user, io.BytesIO(elf), "tool.txt")
        assert (_count(s, Document), _count(s, Blob), len(list(rt.store.list()))) == before


def test_other_department_sees_not_found(rt):
    with rt.transaction() as s:
        make = Make(rt, s)
        owner, other = make.user(), make.user()  # each in a department of their own
        doc = rt.documents(s).upload(owner, io.BytesIO(b"secret-ish"), "x.txt")
        with pytest.raises(NotFound):
            rt.documents(s).get(other, doc.id)
        listed = rt.documents(s).list(other, 1, 100).items
        assert doc.id not in {d.id for d in listed}


def test_fixity_finds_a_changed_blob(rt):
    with rt.transaction() as s:
        doc = rt.documents(s).upload(Make(rt, s).user(), io.BytesIO(b"original content"), "f.txt")
        sha = doc.versions[0].blob_sha256
    path = rt.settings.instance / "objects" / blob_key(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered content")
    with rt.transaction() as s:
        report = run_fixity(s, rt.store, rt.clock)
        assert [f[0] for f in report.failures] == [sha]
        assert s.get(Blob, sha).last_fixity_ok is False


def test_fixity_sampling_checks_oldest_first(rt):
    with rt.transaction() as s:
        make = Make(rt, s)
        owner = make.user()
        make.document(owner, b"first blob")
        make.document(owner, b"second blob")
        first = run_fixity(s, rt.store, rt.clock, limit=1)
        second = run_fixity(s, rt.store, rt.clock, limit=1)
        assert first.checked == second.checked == 1
        checked = s.execute(select(Blob).where(Blob.last_fixity_at.is_not(None))).scalars().all()
        assert len(checked) == 2  # the second run took a never-checked blob, not the first again


CRASH_SCRIPT = textwrap.dedent("""
    import io, os, sys
    from archive_service.runtime import Runtime
    from archive_service.settings import Settings
    from archive_service.models import User
    from sqlalchemy import select
    rt = Runtime.build(Settings.from_env())
    s = rt.factory()
    user = s.get(User, int(os.environ["TEST_USER_ID"]))
    def die(*a, **k):
        os._exit(137)          # the process is killed after the blob is stored, before the commit
    rt.documents(s).upload(user, io.BytesIO(b"bytes of a crashed upload"), "crash.txt")
    die()                      # where the unit of work would commit
""")


def test_kill_between_blob_and_commit_leaves_no_row(rt, make, settings):
    user = make.user()
    make.document(user)
    with rt.transaction() as s:
        docs_before = _count(s, Document)
    env = dict(os.environ, ARCHIVE_INSTANCE=str(settings.instance), ARCHIVE_DATABASE_URL=settings.database_url,
               TEST_USER_ID=str(user.id))
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT], env=env, capture_output=True, text=True)
    assert proc.returncode == 137, proc.stderr
    sha = hashlib.sha256(b"bytes of a crashed upload").hexdigest()
    assert rt.store.exists(sha)                       # the blob was written first ...
    with rt.transaction() as s:
        assert _count(s, Document) == docs_before     # ... and no row points at anything
        assert s.scalar(select(func.count()).select_from(DocumentVersion).where(
            DocumentVersion.blob_sha256 == sha)) == 0
        assert collect_orphans(s, rt.store, rt.clock, timedelta(hours=1)) == []   # within the grace period
        assert collect_orphans(s, rt.store, rt.clock, timedelta(0)) == [blob_key(sha)]  # object keys
        assert not rt.store.exists(sha)
        assert all(d.versions for d in s.execute(select(Document)).scalars())


def test_grants_open_a_document_to_another_department_until_they_expire(rt):
    from archive_service.models import DocumentGrant

    with rt.transaction() as s:
        make = Make(rt, s)
        doc = rt.documents(s).upload(make.user(), io.BytesIO(b"shared with the regulator"), "g.txt")
        reader = make.user()
        s.add(DocumentGrant(document_id=doc.id, department_id=reader.department_id, reason="lookup",
                            granted_at=rt.clock.now(), until=rt.clock.now() + timedelta(hours=1)))
        s.commit()
        assert rt.documents(s).get(reader, doc.id).id == doc.id
        assert doc.id in {d.id for d in rt.documents(s).list(reader, 1, 100).items}
        s.query(DocumentGrant).update({"until": rt.clock.now() - timedelta(seconds=1)})
        s.commit()
        with pytest.raises(NotFound):
            rt.documents(s).get(reader, doc.id)
