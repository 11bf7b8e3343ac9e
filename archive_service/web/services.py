"""The request's service registry: every service a view uses, built in one place from the Runtime
and the request's session (the request's unit of work). Views look services up —
``services().letters`` — and never construct them; each is built once per request, on first use.

A feature's services are added here as properties (the web layer may name feature packages).
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from flask import g
from sqlalchemy.orm import Session

from correspondence.exchange.dashboard import DashboardService
from correspondence.exchange.notices import NoticeService, RevocationLetters
from correspondence.exchange.revocations import RevocationHandling
from correspondence.exchange.service import ExchangeService
from correspondence.inbox import InboxService
from correspondence.inbox_sheet import InboxSheets
from correspondence.issuing import Issuing
from correspondence.letters import LetterService
from correspondence.meetings import MeetingService
from correspondence.minutes import MinutesService
from correspondence.numbering import Numbering
from correspondence.pki import key_source
from correspondence.seal import Seals

from ..activity import ActivityReader, export_lines
from ..archive.import_runs import ImportRuns
from ..archive.service import ArchiveService, archive_for
from ..audit import AuditLog
from ..auth import Authenticator
from ..directory import Directory, Roster
from ..documents import DocumentService
from ..handover.service import HandoverService, handover_for
from ..lookup.service import LookupService
from ..models import User
from ..runtime import Runtime
from ..workdays import CalendarAdmin
from .context import db, runtime


class Services:
    def __init__(self, rt: Runtime, session: Session):
        self.rt = rt
        self.session = session

    # -- core ------------------------------------------------------------------------------------
    @cached_property
    def documents(self) -> DocumentService:
        return self.rt.documents(self.session)

    @cached_property
    def authenticator(self) -> Authenticator:
        return self.rt.authenticator(self.session)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.session, self.rt.clock)

    @cached_property
    def roster(self) -> Roster:
        """Look-ups of departments, people and liaisons."""
        return Roster(self.session)

    def directory(self, actor: User | None) -> Directory:
        return Directory(self.session, self.rt.clock, actor)

    @cached_property
    def activity(self) -> ActivityReader:
        """The audit log as pages read it (recent events, trails, the auditor's filtered pages)."""
        return ActivityReader(self.session)

    def audit_csv(self, filters: dict) -> Iterator[str]:
        """The audit export's CSV lines, read by a session of its own once the response streams."""
        return export_lines(self.rt.factory, filters)

    def record_apart(self, actor: User | None, action: str, target_type: str, target_id, details=None) -> None:
        """An audit event committed on its own whatever the request's outcome (a refused attempt). Call it
        before the request's session has written anything: both append to the audit chain."""
        with self.rt.transaction() as session:
            AuditLog(session, self.rt.clock).record(actor, action, target_type, target_id, details)

    @cached_property
    def calendar_admin(self) -> CalendarAdmin:
        return CalendarAdmin(self.session, self.rt.clock)

    # -- correspondence --------------------------------------------------------------------------
    @cached_property
    def letters(self) -> LetterService:
        return LetterService(self.session, self.documents, self.rt.clock)

    @cached_property
    def issuing(self) -> Issuing:
        return Issuing(self.session, self.documents, self.rt.clock, keys=key_source(self.rt.settings),
                       seals=Seals.from_settings(self.rt.settings))

    @cached_property
    def inbox(self) -> InboxService:
        return InboxService(self.session, self.documents, self.rt.clock, self.rt.settings.handling_days)

    @cached_property
    def inbox_sheets(self) -> InboxSheets:
        return InboxSheets(self.session, self.rt.clock, self.inbox, keys=key_source(self.rt.settings))

    @cached_property
    def numbering(self) -> Numbering:
        return Numbering(self.session, self.rt.clock)

    @cached_property
    def meetings(self) -> MeetingService:
        return MeetingService(self.session, self.rt.clock, self.documents)

    @cached_property
    def minutes(self) -> MinutesService:
        return MinutesService(self.session, self.rt.clock, self.letters)

    @cached_property
    def exchange(self) -> ExchangeService:
        return ExchangeService(self.session, self.rt.clock)

    @cached_property
    def notices(self) -> NoticeService:
        return NoticeService(self.session, self.rt.clock, self.letters)

    @cached_property
    def revocation_letters(self) -> RevocationLetters:
        return RevocationLetters(self.session, self.rt.clock, self.letters)

    @cached_property
    def dashboard(self) -> DashboardService:
        """督办 counts for leaders."""
        return DashboardService(self.session, self.rt.clock)

    @cached_property
    def revocation_handling(self) -> RevocationHandling:
        return RevocationHandling(self.session, self.rt.clock)

    # -- archive ---------------------------------------------------------------------------------
    @cached_property
    def archive(self) -> ArchiveService:
        return archive_for(self.rt, self.session)

    @cached_property
    def import_runs(self) -> ImportRuns:
        return ImportRuns(self.session, self.rt.clock, self.rt.settings.instance)

    @cached_property
    def handover(self) -> HandoverService:
        """The handover service with the archive (to file the 交接文据) and PAdES signing by department keys
        (correspondence's signing module: the wiring layer may name it, the handover package may not)."""
        from correspondence.pki import ensure_pki
        from correspondence.signing import FieldBox, sign_pdf

        keys = key_source(self.rt.settings)
        if not keys.trust_roots():  # a fresh instance: the local CA first, so the archive's verifier trusts it
            ensure_pki(self.rt.settings.instance, [])

        def signer(pdf: bytes, department, name: str, reason: str, *, field=None, stamp_text=None,
                   reserve=()) -> bytes:
            return sign_pdf(pdf, department, signer_name=name or None, reason=reason, keys=keys, field=field,
                            stamp_text=stamp_text, reserve=[FieldBox(n, page, box) for n, page, box in reserve])

        return handover_for(self.rt, self.session, pdf_signer=signer, archive=self.archive)

    # -- archive lookup (档案调阅) -------------------------------------------------------------------
    @cached_property
    def lookups(self) -> LookupService:
        return LookupService(self.session, self.rt.clock)


def services() -> Services:
    """The current request's services (built on first use, over the request's session)."""
    if "services" not in g:
        g.services = Services(runtime(), db())
    return g.services
