"""Archive lookup (档案调阅): catalogue sharing, requests, decisions, time-boxed grants and expiry.

Services flush and never commit: the request, command or job that calls them commits once. Every
time comes from the injected clock; a grant is live while ``until >= clock.now()`` whether or not the
worker has revoked it yet.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, selectinload

from .. import outbox, permissions
from ..archive.models import ArchiveItem, ItemPart
from ..audit import AuditLog
from ..calendar import Calendar
from ..clock import CHINA, Clock
from ..errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from ..models import Document, DocumentGrant, OutboxEntry, User
from ..workdays import load_calendar
from .models import LookupItem, LookupPolicy, LookupRequest

REASON = "lookup"
OPEN = ("submitted", "leader_approved")
LEADER_ROLES = ("signer", "reviewer")
TRIGRAM = 3  # the shortest catalogue query the trigram indexes can serve
SHORT_WINDOW = 5000  # items scanned per page for a shorter query
FTS_CHUNK = 500  # ids taken from the SQLite FTS5 table per round
FTS_HEAD = 2000  # SQLite: newest items scanned directly before the FTS5 table is asked


def end_of_workday(day: date) -> datetime:
    """The last moment (UTC, naive) of a working day in China."""
    local = datetime.combine(day, time(23, 59, 59, 999999), tzinfo=CHINA)
    return local.astimezone(UTC).replace(tzinfo=None)


def _contains(q: str):
    """题名, 档号 or 文号 contains ``q`` (LIKE, wildcards escaped); pg_trgm's GIN index serves it."""
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(ArchiveItem.title.like(like, escape="\\"), ArchiveItem.archival_code.like(like, escape="\\"),
               ArchiveItem.doc_number.like(like, escape="\\"))


def holder_of(item: ArchiveItem):
    return permissions.issuing_organisation(item.department)


@dataclass
class Refusal:
    """An access refused: the web layer records the audit event, commits, then raises ``error``."""
    error: DomainError
    request: LookupRequest | None


class LookupService:
    def __init__(self, session: Session, clock: Clock, calendar: Calendar | None = None):
        self.s, self.clock = session, clock
        self._calendar = calendar

    @property
    def calendar(self) -> Calendar:
        if self._calendar is None:
            self._calendar = load_calendar(self.s)
        return self._calendar

    def audit(self, actor, action: str, target_id, details: dict | None = None) -> None:
        AuditLog(self.s, self.clock).record(actor, action, "lookup", target_id, details)

    # -- policy ------------------------------------------------------------------------------------
    def policy(self, department_id: int) -> LookupPolicy:
        row = self.s.get(LookupPolicy, department_id)
        return row or LookupPolicy(department_id=department_id, due_days=3, max_days=20, decider="archivist",
                                   leader_first=False)

    def set_policy(self, user: User, due_days: int, max_days: int, decider: str, leader_first: bool) -> LookupPolicy:
        org = permissions.issuing_organisation(user.department)
        if not (permissions.has_role(user, "signer") or permissions.has_role(user, "admin")):
            raise Forbidden("仅本单位签发人可以设置调阅规则")
        if decider not in ("archivist", "signer"):
            raise Unprocessable("审批人只能是档案员或签发人")
        row = self.s.get(LookupPolicy, org.id)
        if row is None:
            row = LookupPolicy(department_id=org.id)
            self.s.add(row)
        row.due_days, row.max_days, row.decider, row.leader_first = due_days, max_days, decider, leader_first
        self.audit(user, "lookup.policy", org.id, {"due_days": due_days, "max_days": max_days,
                                                   "decider": decider, "leader_first": leader_first})
        self.s.flush()
        return row

    # -- catalogue sharing -------------------------------------------------------------------------
    def _documents(self, item_ids) -> list[Document]:
        if not item_ids:
            return []
        return list(self.s.scalars(select(Document).join(ItemPart, ItemPart.document_id == Document.id)
                                   .where(ItemPart.item_id.in_(list(item_ids))).distinct()))

    def is_catalogue(self, item: ArchiveItem) -> bool:
        return any(p.document.catalogue for p in item.parts)

    def share(self, user: User, items: list[ArchiveItem], catalogue: bool) -> int:
        """Holders mark items (and their documents) as catalogue-visible county-wide, or withdraw them."""
        for item in items:
            if not permissions.can_file(user, item.department):
                raise NotFound("档案不存在或无权查看")
        changed = 0
        for doc in self._documents([i.id for i in items]):
            if doc.catalogue != catalogue:
                doc.catalogue = catalogue
                changed += 1
        log = AuditLog(self.s, self.clock)
        for item in items:
            log.record(user, "lookup.catalogue", "archive_item", item.id,
                       {"archival_code": item.archival_code, "catalogue": catalogue})
        self.s.flush()
        return changed

    def share_group(self, user: User, fonds: str, year: int | None, retention: str | None,
                    catalogue: bool) -> list[ArchiveItem]:
        q = select(ArchiveItem).where(ArchiveItem.fonds == fonds)
        if year is not None:
            q = q.where(ArchiveItem.year == year)
        if retention:
            q = q.where(ArchiveItem.retention == retention)
        items = [i for i in self.s.scalars(q) if permissions.can_file(user, i.department)]
        if not items:
            raise NotFound("没有可共享的档案")
        self.share(user, items, catalogue)
        return items

    def catalogue(self, q: str = "", limit: int = 50, after: int | None = None) -> list[ArchiveItem]:
        return self.catalogue_page(q, limit, after)[0]

    def catalogue_page(self, q: str = "", limit: int = 50,
                       after: int | None = None) -> tuple[list[ArchiveItem], int | None]:
        """Catalogue-visible items county-wide (metadata only) whose 题名, 档号 or 文号 contains ``q``, newest id
        first, keyset-paged: returns the page and the ``after`` of the next page (None: no more).

        A query of 3 characters or more goes through the trigram index (pg_trgm on PostgreSQL, the FTS5
        trigram table on SQLite; migration custody_0001). A shorter one cannot use trigrams: it scans a
        bounded window of the newest ``SHORT_WINDOW`` items per page, so a page may come back short (or
        empty) with a cursor to continue."""
        q = (q or "").strip()
        stmt = select(ArchiveItem).where(self._shared())
        if after:
            stmt = stmt.where(ArchiveItem.id < after)
        if q and len(q) < TRIGRAM:
            return self._catalogue_window(stmt, q, limit, after, SHORT_WINDOW)
        if q and self.s.get_bind().dialect.name == "sqlite":
            # a common term fills the page from the newest items at once; a rarer one goes on below them
            # through the FTS5 table (PostgreSQL's planner makes the same choice by itself)
            rows, next_after = self._catalogue_window(stmt, q, limit, after, FTS_HEAD)
            if len(rows) == limit or next_after is None:
                return rows, next_after
            more, next_after = self._catalogue_fts(q, limit - len(rows), next_after)
            return rows + more, next_after
        if q:
            stmt = stmt.where(_contains(q))
        rows = list(self.s.scalars(stmt.order_by(ArchiveItem.id.desc()).limit(limit)))
        return rows, (rows[-1].id if len(rows) == limit else None)

    @staticmethod
    def _shared():
        return (select(ItemPart.id).join(Document, Document.id == ItemPart.document_id)
                .where(ItemPart.item_id == ArchiveItem.id, Document.catalogue.is_(True)).exists())

    def _catalogue_window(self, stmt, q: str, limit: int, after: int | None,
                          size: int) -> tuple[list[ArchiveItem], int | None]:
        """A LIKE scan of the newest ``size`` items below ``after``; the cursor is the window's floor when
        the page is not full and older items remain."""
        window = select(ArchiveItem.id)
        if after:
            window = window.where(ArchiveItem.id < after)
        sub = window.order_by(ArchiveItem.id.desc()).limit(size).subquery()
        row = self.s.execute(select(func.count(), func.min(sub.c.id))).one()
        scanned, floor = int(row[0] or 0), int(row[1] or 0)
        if not scanned:
            return [], None
        rows = list(self.s.scalars(stmt.where(ArchiveItem.id >= floor, _contains(q))
                                   .order_by(ArchiveItem.id.desc()).limit(limit)))
        if len(rows) == limit:
            return rows, rows[-1].id
        more = scanned == size and self.s.scalar(
            select(ArchiveItem.id).where(ArchiveItem.id < floor).limit(1)) is not None
        return rows, (floor if more else None)

    def _catalogue_fts(self, q: str, limit: int, after: int | None) -> tuple[list[ArchiveItem], int | None]:
        """SQLite: matching ids from the FTS5 trigram table newest first, in chunks, kept if shared."""
        phrase = '"' + q.replace('"', '""') + '"'
        rows: list[ArchiveItem] = []
        cursor = after
        while len(rows) < limit:
            sql = "SELECT rowid FROM archive_items_fts WHERE archive_items_fts MATCH :m"
            params: dict = {"m": phrase, "n": FTS_CHUNK}
            if cursor:
                sql += " AND rowid < :after"
                params["after"] = cursor
            ids = list(self.s.scalars(text(sql + " ORDER BY rowid DESC LIMIT :n"), params))
            if not ids:
                return rows, None
            found = self.s.scalars(select(ArchiveItem).where(ArchiveItem.id.in_(ids), self._shared())
                                   .order_by(ArchiveItem.id.desc()))
            rows.extend(found)
            cursor = ids[-1]
            if len(ids) < FTS_CHUNK:
                break
        if len(rows) >= limit:
            rows = rows[:limit]
            return rows, rows[-1].id
        return rows, None

    def catalogue_item(self, item_id: int) -> ArchiveItem:
        item = self.s.get(ArchiveItem, item_id)
        if item is None or not self.is_catalogue(item):
            raise NotFound("档案不存在或未共享目录")
        return item

    # -- requests ----------------------------------------------------------------------------------
    def _next_number(self) -> str:
        year = self.clock.today().year
        count = self.s.scalar(select(func.count(LookupRequest.id)).where(LookupRequest.number.like(f"DY{year}-%")))
        return f"DY{year}-{(count or 0) + 1:06d}"

    def create(self, user: User, items: list[tuple[int, str]], purpose: str, days: int, contact: str,
               submit: bool = True) -> LookupRequest:
        if not items:
            raise Unprocessable("请至少选择一件档案")
        if len({i for i, _ in items}) != len(items):
            raise Unprocessable("同一件档案只能申请一次")
        found = [(self.catalogue_item(item_id), form) for item_id, form in items]
        holders = {holder_of(item).id for item, _ in found}
        if len(holders) != 1:
            raise Unprocessable("一次申请只能调阅同一保管单位的档案，请分别申请")
        holder = holder_of(found[0][0])
        if permissions.same_organisation(user.department, holder):
            raise Unprocessable("本单位的档案无需申请调阅")
        policy = self.policy(holder.id)
        if days < 1 or days > policy.max_days:
            raise Unprocessable(f"调阅期限为 1 至 {policy.max_days} 个工作日")
        if not purpose.strip() or not contact.strip():
            raise Unprocessable("请填写调阅目的和联系电话")
        now = self.clock.now()
        req = LookupRequest(number=self._next_number(), requester_id=user.id, department_id=user.department_id,
                            holder_id=holder.id, purpose=purpose.strip(), days=days, contact=contact.strip(),
                            state="draft", created_at=now)
        req.items = [LookupItem(item_id=item.id, form=form, decision="pending", reason="") for item, form in found]
        self.s.add(req)
        self.s.flush()
        self.audit(user, "lookup.created", req.id, {"number": req.number, "items": [i.id for i, _ in found]})
        if submit:
            self._submit(user, req)
        self.s.flush()
        return req

    def visible(self, user: User, req: LookupRequest | None) -> LookupRequest:
        """The requester's department and the holder's organisation see a request; others get 404."""
        if req is None or not (req.department_id == user.department_id
                               or permissions.same_organisation(user.department, req.holder)):
            raise NotFound("调阅申请不存在")
        return req

    def get(self, user: User, request_id: int) -> LookupRequest:
        return self.visible(user, self.s.get(LookupRequest, request_id))

    def mine(self, user: User) -> list[LookupRequest]:
        return list(self.s.scalars(select(LookupRequest).where(LookupRequest.department_id == user.department_id)
                                   .options(selectinload(LookupRequest.items)).order_by(LookupRequest.id.desc())))

    def queue(self, user: User) -> list[LookupRequest]:
        """Requests the user's organisation holds (to decide, active, closed), newest first."""
        org = permissions.issuing_organisation(user.department)
        if not permissions.has_role(user, "archivist", "signer"):
            return []
        return list(self.s.scalars(select(LookupRequest).where(LookupRequest.holder_id == org.id,
                                                               LookupRequest.state != "draft")
                                   .options(selectinload(LookupRequest.items)).order_by(LookupRequest.id.desc())))

    def overdue(self, req: LookupRequest) -> bool:
        return req.state in OPEN and req.due_on is not None and self.clock.today() > req.due_on

    def awaiting_leader(self, req: LookupRequest) -> bool:
        return req.state == "submitted" and self.policy(req.holder_id).leader_first

    def _submit(self, user: User, req: LookupRequest) -> None:
        req.state, req.submitted_at = "submitted", self.clock.now()
        if not self.policy(req.holder_id).leader_first:
            self._start_clock(req)
        self.audit(user, "lookup.submitted", req.id, {"number": req.number})

    def _start_clock(self, req: LookupRequest) -> None:
        req.due_on = self.calendar.add_workdays(self.clock.today(), self.policy(req.holder_id).due_days)

    def can_decide(self, user: User, req: LookupRequest, li: LookupItem) -> bool:
        if not permissions.same_organisation(user.department, req.holder):
            return False
        policy = self.policy(req.holder_id)
        sensitive = li.item.retention == "Y" or li.item.secrecy != "非密"
        if policy.decider == "signer" and sensitive:
            return permissions.has_role(user, "signer")
        return permissions.has_role(user, "archivist", "signer")

    def act(self, user: User, req: LookupRequest, action: str, item_ids: list[int] | None = None,
            reason: str = "", days: int | None = None) -> LookupRequest:
        self.visible(user, req)
        requester_side = req.department_id == user.department_id
        reason = (reason or "").strip()
        if action == "submit":
            if not requester_side:
                raise Forbidden("只有申请单位可以提交")
            if req.state != "draft":
                raise Conflict("申请已提交")
            self._submit(user, req)
        elif action == "cancel":
            if not requester_side:
                raise Forbidden("只有申请单位可以撤回")
            if req.state not in ("draft", *OPEN) or any(li.decision != "pending" for li in req.items):
                raise Conflict("保管单位已审批，不能撤回")
            req.state, req.ended_at = "cancelled", self.clock.now()
            self.audit(user, "lookup.cancelled", req.id, {"number": req.number})
        elif action in ("approve", "refuse") and self.awaiting_leader(req) and requester_side:
            self._leader(user, req, action, reason)
        elif action in ("approve", "refuse") and req.state == "active" and req.extension_state == "pending":
            self._decide_extension(user, req, action, reason)
        elif action in ("approve", "refuse"):
            self._decide(user, req, action, item_ids, reason)
        elif action == "return":
            if not requester_side:
                raise Forbidden("只有申请单位可以归还")
            if req.state != "active":
                raise Conflict("当前没有调阅中的授权")
            req.state, req.ended_at = "returned", self.clock.now()
            self.revoke([req])
            self.audit(user, "lookup.returned", req.id, {"number": req.number})
        elif action == "extend":
            if not requester_side:
                raise Forbidden("只有申请单位可以申请延期")
            if req.state != "active":
                raise Conflict("只有调阅中的申请可以延期")
            if req.extension_state is not None:
                raise Conflict("每份申请只能延期一次")
            n = days or req.days
            if n < 1 or n > self.policy(req.holder_id).max_days:
                raise Unprocessable(f"延期为 1 至 {self.policy(req.holder_id).max_days} 个工作日")
            req.extension_days, req.extension_state = n, "pending"
            self.audit(user, "lookup.extension_asked", req.id, {"number": req.number, "days": n})
        else:
            raise Unprocessable("不支持的操作")
        self.s.flush()
        return req

    def _leader(self, user: User, req: LookupRequest, action: str, reason: str) -> None:
        if user.id == req.requester_id or not permissions.has_role(user, *LEADER_ROLES):
            raise Forbidden("须由本单位负责人（非申请人）审核")
        if action == "approve":
            req.state, req.leader_id = "leader_approved", user.id
            self._start_clock(req)
        else:
            if not reason:
                raise Unprocessable("请填写不同意的理由")
            req.state, req.ended_at = "refused", self.clock.now()
        self.audit(user, f"lookup.leader_{action}d", req.id, {"number": req.number, "reason": reason})

    def _decide(self, user: User, req: LookupRequest, action: str, item_ids: list[int] | None, reason: str) -> None:
        if req.department_id == user.department_id or permissions.same_organisation(user.department, req.department):
            raise Forbidden("申请单位不能审批本单位的调阅申请")
        if req.state not in OPEN or self.awaiting_leader(req):
            raise Conflict("当前状态不能审批")
        pending = [li for li in req.items if li.decision == "pending"]
        if item_ids:
            by_item = {li.item_id: li for li in req.items}
            chosen = []
            for i in item_ids:
                li = by_item.get(i)
                if li is None:
                    raise Unprocessable(f"申请中没有档案 {i}")
                if li.decision != "pending":
                    raise Conflict(f"档案 {li.item.archival_code} 已审批")
                chosen.append(li)
        else:
            chosen = pending
        if action == "refuse" and not reason:
            raise Unprocessable("请填写不同意的理由")
        for li in chosen:
            if not self.can_decide(user, req, li):
                raise Forbidden("您不是该档案的调阅审批人")
        now = self.clock.now()
        for li in chosen:
            li.decision = "approved" if action == "approve" else "refused"
            li.reason, li.decided_by, li.decided_at = reason, user.id, now
        self.audit(user, f"lookup.{action}d", req.id, {"number": req.number, "items": [li.item_id for li in chosen],
                                                       "reason": reason})
        if all(li.decision != "pending" for li in req.items):
            req.decided_at = now
            approved = [li for li in req.items if li.decision == "approved"]
            if approved:
                req.state = "active"
                req.until = end_of_workday(self.calendar.add_workdays(self.clock.today(), req.days))
                self.s.flush()
                self._grant(req)
            else:
                req.state, req.ended_at = "refused", now

    def _decide_extension(self, user: User, req: LookupRequest, action: str, reason: str) -> None:
        if not any(self.can_decide(user, req, li) for li in req.items if li.decision == "approved") or \
                permissions.same_organisation(user.department, req.department):
            raise Forbidden("您不是该档案的调阅审批人")
        assert req.until is not None  # an active request has its end
        if action == "approve":
            last = req.until.replace(tzinfo=UTC).astimezone(CHINA).date()
            req.until = end_of_workday(self.calendar.add_workdays(last, req.extension_days or req.days))
            req.extension_state = "approved"
            self.s.flush()
            self._grant(req)
        else:
            req.extension_state = "refused"
        self.audit(user, f"lookup.extension_{action}d", req.id, {"number": req.number, "reason": reason,
                                                                 "until": req.until.isoformat() + "Z"})

    # -- grants ------------------------------------------------------------------------------------
    def _grant(self, req: LookupRequest) -> None:
        """One core grant per document of each approved item (extended when one is already live)."""
        docs = {d.id for d in self._documents([li.item_id for li in req.items if li.decision == "approved"])}
        assert req.until is not None
        existing = {g.document_id: g for g in self.s.scalars(select(DocumentGrant).where(
            DocumentGrant.document_id.in_(docs), DocumentGrant.department_id == req.department_id,
            DocumentGrant.reason == REASON))}
        now = self.clock.now()
        for doc_id in sorted(docs):
            g = existing.get(doc_id)
            if g is None:
                self.s.add(DocumentGrant(document_id=doc_id, department_id=req.department_id, reason=REASON,
                                         granted_at=now, until=req.until))
            elif g.until is not None and g.until < req.until:
                g.until = req.until
        self.s.flush()

    def revoke(self, requests: list[LookupRequest]) -> int:
        """End the grants of requests that are over; a document still covered by another live request
        of the same department keeps its grant, cut to that request's end."""
        if not requests:
            return 0
        ids = [r.id for r in requests]
        pairs = set(self.s.execute(
            select(ItemPart.document_id, LookupRequest.department_id)
            .join(LookupItem, LookupItem.item_id == ItemPart.item_id)
            .join(LookupRequest, LookupRequest.id == LookupItem.request_id)
            .where(LookupRequest.id.in_(ids), LookupItem.decision == "approved")).all())
        if not pairs:
            return 0
        docs = {d for d, _ in pairs}
        still: dict[tuple[int, int], datetime] = {}
        for doc_id, dept, until in self.s.execute(
                select(ItemPart.document_id, LookupRequest.department_id, func.max(LookupRequest.until))
                .join(LookupItem, LookupItem.item_id == ItemPart.item_id)
                .join(LookupRequest, LookupRequest.id == LookupItem.request_id)
                .where(LookupRequest.state == "active", LookupRequest.id.notin_(ids),
                       LookupItem.decision == "approved", LookupRequest.until >= self.clock.now(),
                       ItemPart.document_id.in_(docs))
                .group_by(ItemPart.document_id, LookupRequest.department_id)):
            if until is not None:  # approved requests always have an end
                still[(doc_id, dept)] = until
        grants = list(self.s.execute(select(DocumentGrant.id, DocumentGrant.document_id, DocumentGrant.department_id)
                                     .where(DocumentGrant.document_id.in_(docs), DocumentGrant.reason == REASON)))
        gone: list[tuple[int, tuple[int, int]]] = []
        cut: list[tuple[int, tuple[int, int]]] = []
        for gid, doc_id, dept in grants:
            key = (doc_id, dept)
            if key not in pairs:
                continue
            (cut if key in still else gone).append((gid, key))
        for gid, key in cut:
            grant = self.s.get(DocumentGrant, gid)
            if grant is not None:
                grant.until = still[key]
        self.s.flush()
        if gone:
            # one statement (a row another worker removed meanwhile is simply not there), then the same
            # announcement the flush hook makes for ORM changes: revision bump + outbox row per document
            self.s.execute(delete(DocumentGrant).where(DocumentGrant.id.in_([g for g, _ in gone])))
            self._announce(sorted({k[0] for _, k in gone}))
        return len(gone)

    def _announce(self, doc_ids: list[int]) -> None:
        now = self.clock.now()
        self.s.execute(update(Document).where(Document.id.in_(doc_ids)).values(revision=Document.revision + 1)
                       .execution_options(synchronize_session=False))
        rows = self.s.execute(select(Document.id, Document.revision).where(Document.id.in_(doc_ids))).all()
        self.s.execute(insert(OutboxEntry), [
            {"topic": outbox.SEARCH, "document_id": d, "revision": r, "created_at": now,
             "available_at": outbox.IMMEDIATELY, "attempts": 0} for d, r in rows])
        self.s.expire_all()

    def expire_due(self, limit: int = 20000) -> int:
        """The worker's pass: active requests past ``until`` become expired and lose their grants. On
        PostgreSQL concurrent workers skip each other's rows (FOR UPDATE SKIP LOCKED): each is expired once."""
        now = self.clock.now()
        due = (select(LookupRequest.id).where(LookupRequest.state == "active", LookupRequest.until < now)
               .order_by(LookupRequest.id).limit(limit).with_for_update(skip_locked=True))
        # the claim is the transaction's first statement, a write: on SQLite the second worker waits for
        # the first to commit and then finds nothing left; on PostgreSQL it skips the locked rows
        ids = list(self.s.scalars(update(LookupRequest).where(LookupRequest.id.in_(due),
                                                              LookupRequest.state == "active")
                                  .values(state="expired", ended_at=now).returning(LookupRequest.id)
                                  .execution_options(synchronize_session=False)))
        if not ids:
            return 0
        reqs = list(self.s.scalars(select(LookupRequest).where(LookupRequest.id.in_(ids))))
        revoked = self.revoke(reqs)
        self.audit(None, "lookup.expired", ",".join(str(r.id) for r in reqs[:50]),
                   {"requests": len(reqs), "grants_revoked": revoked})
        self.s.flush()
        return len(reqs)

    # -- access ------------------------------------------------------------------------------------
    def live_items(self, user: User, item_id: int) -> list[LookupItem]:
        return list(self.s.scalars(
            select(LookupItem).join(LookupRequest)
            .where(LookupItem.item_id == item_id, LookupItem.decision == "approved",
                   LookupRequest.department_id == user.department_id)
            .order_by(LookupRequest.id.desc())))

    def access(self, user: User, item_id: int, form: str) -> LookupItem | Refusal:
        """The approved lookup item that lets ``user`` read (view) or copy ``item_id`` now, or why not."""
        rows = self.live_items(user, item_id)
        now = self.clock.now()
        live = [li for li in rows if li.request.state == "active" and li.request.until is not None
                and li.request.until >= now]
        if not rows:
            return Refusal(NotFound("档案不存在或未获调阅授权"), None)
        if not live:
            return Refusal(Forbidden("调阅期限已过或已归还"), rows[0].request)
        if form == "copy":
            copies = [li for li in live if li.form == "copy"]
            if not copies:
                return Refusal(Forbidden("该档案仅获准查阅，不能复制"), live[0].request)
            return copies[0]
        return live[0]

    def only_by_lookup(self, user: User, doc: Document) -> bool:
        """True when ``user`` reads ``doc`` only through a lookup grant (the original stays closed)."""
        if doc.department_id == user.department_id:
            return False
        reasons = set(self.s.scalars(select(DocumentGrant.reason).where(
            DocumentGrant.document_id == doc.id, DocumentGrant.department_id == user.department_id,
            or_(DocumentGrant.until.is_(None), DocumentGrant.until >= self.clock.now()))))
        return bool(reasons) and reasons <= {REASON}

    def accesses(self, user: User, req: LookupRequest):
        from ..models import AuditEvent

        self.visible(user, req)
        return list(self.s.scalars(select(AuditEvent).where(AuditEvent.target_type == "lookup",
                                                            AuditEvent.target_id == str(req.id))
                                   .order_by(AuditEvent.id)))

    def item_accesses(self, item_id: int):
        from ..models import AuditEvent

        ids = [str(i) for i in self.s.scalars(select(LookupItem.request_id).where(LookupItem.item_id == item_id))]
        if not ids:
            return []
        return [e for e in self.s.scalars(select(AuditEvent).where(AuditEvent.target_type == "lookup",
                                                                    AuditEvent.target_id.in_(ids),
                                                                    AuditEvent.action.in_(("lookup.view", "lookup.copy",
                                                                                           "lookup.denied")))
                                          .order_by(AuditEvent.id))
                if f'"item_id":{item_id}' in (e.details or "").replace(" ", "")]

    def letter_values(self, user: User, req: LookupRequest) -> dict[str, str]:
        """The 调阅函 template's values for a request (the web layer drafts the letter through correspondence)."""
        if req.department_id != user.department_id:
            raise Forbidden("只有申请单位可以生成调阅函")
        if req.letter_id is not None:
            raise Conflict("该申请已生成调阅函")
        if req.state in ("cancelled", "refused", "returned", "expired"):
            raise Conflict("该申请已办结，不能再生成调阅函")
        first = req.items[0].item.title if req.items else ""
        subject = first if len(req.items) == 1 else f"{first}等{len(req.items)}件"
        items = "；".join(f"{n}. {li.item.archival_code}《{li.item.title}》（{li.form_label}）"
                         for n, li in enumerate(req.items, 1))
        forms = "、".join(sorted({li.form_label for li in req.items}))
        return {"subject": subject, "purpose": req.purpose, "number": req.number, "items": items + "。",
                "forms": forms, "days": str(req.days), "requester": req.requester.full_name, "contact": req.contact}

    def link_letter(self, user: User, req: LookupRequest, letter_id: int) -> None:
        req.letter_id = letter_id
        self.audit(user, "lookup.letter", req.id, {"number": req.number, "letter_id": letter_id})
        self.s.flush()

    # -- 我的工作 ------------------------------------------------------------------------------------
    def work(self, user: User) -> dict:
        to_decide = [r for r in self.queue(user) if r.state in OPEN and not self.awaiting_leader(r)
                     and any(li.decision == "pending" and self.can_decide(user, r, li) for li in r.items)]
        soon = self.calendar.add_workdays(self.clock.today(), 1)
        expiring = [r for r in self.mine(user) if r.state == "active" and r.until is not None
                    and r.until <= end_of_workday(soon)]
        overdue = [r for r in to_decide if self.overdue(r)] + [r for r in self.mine(user) if self.overdue(r)]
        leader = [r for r in self.mine(user) if self.awaiting_leader(r) and user.id != r.requester_id
                  and permissions.has_role(user, *LEADER_ROLES)]
        return {"to_decide": to_decide, "expiring": expiring, "overdue": overdue, "leader": leader}


def expiry_pass(rt) -> int:
    """One worker pass in its own unit of work."""
    with rt.transaction() as session:
        return LookupService(session, rt.clock).expire_due()
