"""Administrator pages: departments, users and roles, liaison registry, calendar overrides."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import permissions
from ..calendar import PACKAGE_LAST_YEAR
from ..directory import Directory
from ..errors import Unprocessable
from ..models import Department, Liaison, User
from .admin_schemas import (
    CalendarForm,
    CalendarNoticeFields,
    CalendarQuery,
    DepartmentForm,
    LiaisonForm,
    UserForm,
    UserUpdateForm,
)
from .apispec import parse_form, parse_query
from .context import current_user, runtime, signed_in_user
from .pages import login_required
from .services import services
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        permissions.require_admin(signed_in_user())
        return view(*args, **kwargs)

    return wrapper


def _directory() -> Directory:
    return services().directory(current_user())


def _get(model, key):
    return _directory().row(model, key)


def _done(message: str, endpoint: str):
    flash(message)
    return redirect(url_for(endpoint))


def _departments():
    return services().roster.departments_by_kind()


@bp.get("/")
@admin_required
def index():
    return redirect(url_for("admin.departments"))


@bp.route("/departments", methods=["GET", "POST"])
@admin_required
def departments():
    if request.method == "POST":
        f = parse_form(DepartmentForm)
        parent = services().roster.find_department(f.parent) if f.parent else None
        if f.id:
            _directory().update_department(_get(Department, f.id), f.name or "", f.code or "", f.kind or "",
                                            f.full_name)
            return _done("部门已更新", "admin.departments")
        _directory().add_department(f.name or "", f.code or "", f.kind or "", parent, f.full_name or "")
        return _done("部门已添加", "admin.departments")
    return render_template("ui/admin/departments.html", departments=_departments())


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    if request.method == "POST":
        f = parse_form(UserForm)
        dept = services().roster.find_department(f.department)
        _directory().add_user(f.username or "", f.full_name or "", dept, f.roles, f.password)
        return _done("用户已添加", "admin.users")
    rows = services().roster.all_users()
    return render_template("ui/admin/users.html", users=rows, departments=_departments())


@bp.post("/users/<int:user_id>")
@admin_required
def update_user(user_id: int):
    user, f, d = _get(User, user_id), parse_form(UserUpdateForm), _directory()
    action = f.action
    if action == "roles":
        d.set_roles(user, f.roles)  # never one's own (Directory refuses)
    elif action in {"activate", "deactivate"}:
        if user.id == signed_in_user().id:
            raise Unprocessable("不能停用自己的账号")
        d.set_active(user, action == "activate")
    elif action == "password":
        d.set_password(user, f.password)
    elif action == "department":
        d.move_user(user, services().roster.find_department(f.department))
    else:
        raise Unprocessable("未知操作")
    return _done(f"已更新用户 {user.username}", "admin.users")


@bp.route("/liaisons", methods=["GET", "POST"])
@admin_required
def liaisons():
    if request.method == "POST":
        f, d = parse_form(LiaisonForm), _directory()
        if f.action == "file":
            d.file_liaison(_get(User, f.user_id or 0), services().roster.find_department(f.filed_with), f.phone)
        elif f.action == "withdraw":
            d.withdraw_liaison(_get(Liaison, f.liaison_id or 0))
        elif f.action == "link":
            d.link(services().roster.find_department(f.section), services().roster.find_department(f.regulator))
        else:
            d.unlink(services().roster.find_department(f.section), services().roster.find_department(f.regulator))
        return _done("联络员登记已更新", "admin.liaisons")
    rows, links = services().roster.liaison_registry()
    depts = {x.id: x for x in _departments()}
    candidates = services().roster.all_users(active_only=True)
    return render_template("ui/admin/liaisons.html", liaisons=rows, links=links, depts=depts,
                           gaps=services().roster.liaison_gaps(),
                           candidates=[u for u in candidates if "liaison" in u.roles])


@bp.route("/calendar", methods=["GET", "POST"])
@admin_required
def calendar():
    admin = services().calendar_admin
    if request.method == "POST":
        f = parse_form(CalendarForm)
        if f.action == "delete" and f.day is not None:
            admin.delete_override(current_user(), f.day)
        elif f.action == "confirm_year" and f.year is not None:
            admin.confirm_year(current_user(), f.year, f.note)
            return _done(f"已确认 {f.year} 年的国务院节假日安排", "admin.calendar")
        elif f.action == "withdraw_notice" and f.year is not None:
            admin.withdraw_notice(current_user(), f.year)
            return _done(f"已撤回 {f.year} 年的通知确认，该年恢复估算", "admin.calendar")
        elif f.day is None:
            raise Unprocessable("请填写日期")
        else:
            admin.set_override(current_user(), f.day, f.is_workday == "1", f.note)
        return _done("工作日历已更新", "admin.calendar")
    year = parse_query(CalendarQuery).year or runtime().clock.today().year
    cal = admin.calendar()
    rows = admin.overrides()
    estimated = cal.estimated_years(range(year, year + 2))
    return render_template("ui/admin/calendar.html", overrides=rows, year=year, estimated=estimated,
                           estimated_days=sorted(cal.estimated_holidays(year).items()),
                           notices=admin.notices(), package_last_year=PACKAGE_LAST_YEAR,
                           months=_month_grid(cal, year))


#: a State Council notice as CSV or ICS is a few kilobytes
NOTICE_LIMIT = 256 * 1024


@bp.post("/calendar/notice")
@streaming_upload()
@admin_required
def calendar_notice():
    """Import the State Council's holiday notice for a year (CSV or ICS file): it wins over the estimate."""
    upload = open_upload(require_csrf=True)
    raw = upload.part.read(NOTICE_LIMIT + 1)
    fields = upload.finish()
    if len(raw) > NOTICE_LIMIT:
        raise Unprocessable("通知文件过大（不超过 256 KB）")
    notice = upload.fields_as(CalendarNoticeFields, fields)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise Unprocessable("通知文件须为 UTF-8 或 GB18030 编码的 CSV/ICS 文本") from None
    count = services().calendar_admin.import_notice(current_user(), notice.year, text, notice.title)
    return _done(f"已导入 {notice.year} 年国务院节假日安排（{count} 天），该年不再估算", "admin.calendar")


def _month_grid(cal, year: int):
    """Twelve months of (day, is_workday, is_override) for the calendar page."""
    import calendar as pycal

    months = []
    estimated = cal.estimated_holidays(year)
    for month in range(1, 13):
        weeks = []
        for week in pycal.Calendar().monthdatescalendar(year, month):
            weeks.append([(d, cal.is_workday(d), d in cal.overrides, d in estimated and d not in cal.overrides)
                          if d.month == month else None for d in week])
        months.append((month, weeks))
    return months
