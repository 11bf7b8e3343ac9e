"""Reading the audit log for pages: a user's recent activity and an object's trail (the auditor's
filtered view is ``audit_query``)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Select, literal, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from .audit import ChainReport, export_csv, verify_chain
from .listing import Cursor, KeysetPage
from .models import AuditEvent, Department, User

#: Chinese names of audit actions, for the pages (the log itself keeps the keys)
ACTION_LABELS = {
    "auth.login": "登录", "auth.login_failed": "登录失败", "auth.logout": "退出登录",
    "auth.token_issued": "签发访问令牌", "auth.token_revoked": "撤销访问令牌",
    "document.upload": "上传文档", "document.version_added": "新增文档版本", "document.download": "下载文档",
    "document.download_refused": "拒绝下载",
    "admin.department_added": "添加部门", "admin.department_updated": "修改部门", "admin.user_added": "添加用户",
    "admin.roles_changed": "修改角色", "admin.user_activated": "启用用户", "admin.user_deactivated": "停用用户",
    "admin.password_set": "重设密码", "admin.user_moved": "调整部门", "admin.liaison_filed": "联络员备案",
    "admin.liaison_withdrawn": "撤销联络员备案", "admin.link_added": "添加对应关系",
    "admin.link_removed": "删除对应关系",
    "admin.calendar_override": "设置工作日", "admin.calendar_override_removed": "删除工作日设置",
    "admin.calendar_notice": "录入放假通知", "admin.calendar_notice_removed": "撤回放假通知",
    "audit.exported": "导出审计日志",
    "letter.drafted": "拟稿", "letter.revised": "修改公文", "letter.numbered": "取得发文字号",
    "letter.issued": "印发",
    "letters.agency_code_set": "设置机关代字",
    "signoff.submit": "提交核稿", "signoff.pass": "核稿通过", "signoff.return": "退回修改", "signoff.sign": "签发",
    "signoff.countersign": "会签", "signoff.recheck": "复核", "signoff.register": "登记", "signoff.issue": "印发",
    "signoff.revise": "产生新版本",
    "inbox.received": "收文签收", "inbox.registered": "收文登记", "inbox.reviewed": "收文初审",
    "inbox.returned": "退回来文", "inbox.proposed": "拟办", "inbox.assigned": "批办（交办）",
    "inbox.circulated": "传阅",
    "inbox.read": "阅知", "inbox.reminded": "催办", "inbox.reply_drafted": "起草复函", "inbox.closed": "办结",
    "inbox.sheet_certified": "出具收文处理单",
    "meeting.scheduled": "召集会议", "meeting.urgent_schedule": "紧急召集会议", "meeting.cancelled": "取消会议",
    "meeting.attendance": "登记出席", "meeting.material_added": "添加会议材料",
    "meeting.materials_sent": "送达会议材料",
    "meeting.minutes_drafted": "起草会议纪要",
    "archive.file": "归档", "archive.import": "导入档案", "archive.check": "四性检测", "archive.released": "解除归档",
    "archive.metadata_changed": "修改档案著录", "archive.disposal_proposed": "提出鉴定处置",
    "archive.fonds_set": "设置全宗",
    "handover.create": "创建移交", "handover.edit": "修改移交", "handover.package": "封装移交包",
    "handover.custody": "移交保管权", "handover.import": "导入移交包",
    "lookup.created": "创建调阅申请", "lookup.submitted": "提交调阅申请", "lookup.denied": "拒绝调阅",
    "lookup.cancelled": "取消调阅", "lookup.expired": "调阅到期", "lookup.returned": "归还调阅",
    "lookup.view": "查阅档案",
    "lookup.copy": "复制档案", "lookup.extension_asked": "申请延期",
    "exchange.pushed": "推送审批结果", "exchange.claimed": "认领", "exchange.auto_claimed": "自动认领",
    "exchange.feedback": "反馈监管结果", "exchange.revocation_pushed": "推送撤销建议",
    "exchange.revocation_handled": "处理撤销建议", "exchange.notice_sent": "发送政策告知",
    "exchange.notice_acknowledged": "签收政策告知", "exchange.matter_added": "添加事项",
    "exchange.matter_changed": "修改事项",
    "search.results": "检索",
}
_PREFIX_LABELS = {"auth": "登录", "document": "文档", "admin": "系统管理", "letter": "公文", "signoff": "审签",
                  "inbox": "收文", "meeting": "会议", "archive": "档案", "handover": "移交", "lookup": "调阅",
                  "exchange": "审管互动", "audit": "审计"}


_MAX_ID = 2**62  # above any event id (an upper bound both databases compare as an integer)


def action_label(action: str) -> str:
    """The Chinese name of an audit action (its key where none is known, with the area named)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    area = _PREFIX_LABELS.get(action.split(".", 1)[0])
    return f"{area}（{action}）" if area else action


def action_keys(text: str) -> list[str]:
    """Audit action keys whose Chinese name contains ``text`` (the auditor may filter by 印发, 签收 …)."""
    return sorted(k for k, label in ACTION_LABELS.items() if text in label)


def department_names(session: Session) -> dict[int, str]:
    """Department id → display name, for the activity and audit lists."""
    return {row.id: row.name for row in session.execute(select(Department.id, Department.name))}


def recent_activity(session: Session, user: User, limit: int = 15) -> list[AuditEvent]:
    """The user's own and their department's latest events: two index range scans, merged.

    Each scan is written as a range of ``(column, id)`` ordered by both, which only the ``(column, id)``
    index serves: with ``column = value ORDER BY id`` PostgreSQL may walk the primary key backwards and
    filter, reading every newer event when the user's own are old (490k events: 173 ms for one page)."""
    scans = ((AuditEvent.actor_id, user.id), (AuditEvent.department_id, user.department_id))
    events = {e.id: e for column, value in scans
              for e in session.scalars(select(AuditEvent).where(
                  tuple_(column, AuditEvent.id) >= tuple_(literal(value), literal(0)),
                  tuple_(column, AuditEvent.id) <= tuple_(literal(value), literal(_MAX_ID)))
                  .order_by(column.desc(), AuditEvent.id.desc()).limit(limit))}
    return sorted(events.values(), key=lambda e: e.id, reverse=True)[:limit]


def trail(session: Session, target_type: str, target_id) -> list[AuditEvent]:
    """Every event about one object, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.target_type == target_type,
                                                        AuditEvent.target_id == str(target_id))
                                .order_by(AuditEvent.id)))


def audit_query(session: Session, args) -> Select:
    """The auditor's view: newest first, filtered by action prefix, actor and target."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("action"):
        action = args["action"].strip()
        keys = action_keys(action) if not action.isascii() else []
        # a key prefix (document.), or a Chinese action name (印发, 签收) standing for its keys
        q = q.where(AuditEvent.action.in_(keys) if keys else AuditEvent.action.startswith(action))
    if args.get("actor"):
        actor = args["actor"].strip()  # a user name, or a person's name (局长李明)
        # the names are resolved first: one user name is one range of ix_audit_events_actor_name_id, read
        # newest first with no sort (an OR with a subquery made SQLite merge and sort every match)
        names = sorted({actor, *session.scalars(select(User.username).where(User.full_name == actor))})
        q = q.where(AuditEvent.actor_name == names[0] if len(names) == 1 else AuditEvent.actor_name.in_(names))
    if args.get("target"):
        q = q.where(AuditEvent.target_id == args["target"].strip())
    return q


def audit_offset_page(session, args, page: int, size: int) -> list[AuditEvent]:
    """Events newest first by page number (OFFSET paging, kept for older clients; deep pages are slow)."""
    return list(session.scalars(audit_query(session, args).offset((page - 1) * size).limit(size)))


def audit_rows(session, args) -> Iterator[AuditEvent]:
    """Every event the filters select, newest first, streamed in batches (the CSV export)."""
    yield from session.scalars(audit_query(session, args).execution_options(yield_per=1000))


def export_lines(factory: sessionmaker, args) -> Iterator[str]:
    """The CSV lines of the events ``args`` selects, read lazily by a session of its own (a streamed
    response outlives the request's session)."""
    with factory() as own:
        yield from export_csv(audit_rows(own, args))


def audit_page(session, args, size: int, after: Cursor | None = None, before: Cursor | None = None,
               start: datetime | None = None) -> KeysetPage:
    """Events newest first by id, by keyset (``id < cursor``); ``start`` jumps to the last event before it.

    Every filter has an index ending in ``id`` (migration firsthour_0001), so a page is one range scan."""
    q = audit_query(session, args)
    if start is not None:  # ids grow with time (the chain appends): find the boundary through the `at` index
        boundary = session.scalar(select(AuditEvent.id).where(AuditEvent.at < start)
                                  .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))
        q = q.where(AuditEvent.id <= (boundary or 0))
    if before is not None:
        rows = session.scalars(q.where(AuditEvent.id > before.id).order_by(None).order_by(AuditEvent.id)
                               .limit(size + 1)).all()
        more_newer, rows = len(rows) > size, rows[:size][::-1]
        more_older = True
    else:
        if after is not None:
            q = q.where(AuditEvent.id < after.id)
        rows = session.scalars(q.limit(size + 1)).all()
        more_older, rows = len(rows) > size, rows[:size]
        more_newer = after is not None or start is not None
    page = KeysetPage(list(rows), size, start=start)
    if rows:
        page.next_cursor = Cursor(rows[-1].at, rows[-1].id).encode() if more_older else None
        page.prev_cursor = Cursor(rows[0].at, rows[0].id).encode() if more_newer else None
    return page


class ActivityReader:
    """The audit log as the pages read it, over a unit of work's session (the web's service registry
    builds one per request): a user's recent events, an object's trail, the auditor's filtered pages."""

    def __init__(self, session: Session):
        self.session = session

    def recent(self, user: User, limit: int = 15) -> list[AuditEvent]:
        return recent_activity(self.session, user, limit)

    def trail(self, target_type: str, target_id) -> list[AuditEvent]:
        return trail(self.session, target_type, target_id)

    def department_names(self) -> dict[int, str]:
        return department_names(self.session)

    def page(self, args, size: int, after: Cursor | None = None, before: Cursor | None = None,
             start: datetime | None = None) -> KeysetPage:
        return audit_page(self.session, args, size, after, before, start)

    def offset_page(self, args, page: int, size: int) -> list[AuditEvent]:
        return audit_offset_page(self.session, args, page, size)

    def verify_chain(self) -> ChainReport:
        return verify_chain(self.session)
