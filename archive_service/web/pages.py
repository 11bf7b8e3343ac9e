"""HTML pages for every signed-in user: login, home, documents."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from ..clock import local_time
from ..errors import DomainError, RateLimited, Unauthorized, Unprocessable
from . import mywork
from .apispec import parse_form, parse_query
from .context import authenticate, check_csrf, current_user, db, runtime, sign_in, signed_in_user
from .errors import status_of
from .paging import keyset_args
from .redirects import same_site_path
from .schemas import TokenRequest, TokenRevoke, VersionQuery
from .services import services
from .transfer import download_response, receive_upload
from .upload_marks import streaming_upload

bp = Blueprint("pages", __name__)


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("pages.login", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)

    return wrapper


def _safe_next(target: str | None) -> str:
    return same_site_path(target) or url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status = None, 200
    if request.method == "POST":
        check_csrf(request.form.get("csrf_token"))
        try:
            form = parse_form(TokenRequest)
            user = authenticate(form.username, form.password)
        except (Unauthorized, RateLimited, Unprocessable) as exc:
            error, status = exc.message, status_of(exc)
        else:
            sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("ui/login.html", error=error), status


@bp.post("/logout")
def logout():
    check_csrf(request.form.get("csrf_token"))
    user = current_user()
    if user is not None and not g.get("via_token"):
        services().authenticator.logout(user)  # ends the session server-side, not only the cookie
    session.clear()
    return redirect(url_for("pages.login"))


@bp.get("/")
@login_required
def home():
    user = signed_in_user()
    recent = services().documents.page(user, 10, with_total=False).items
    recent_events = services().activity.recent(user)
    gaps = services().roster.liaison_gaps() if user.roles & {"admin", "liaison"} else []
    return render_template("ui/home.html", recent=recent, activity=recent_events, gaps=gaps,
                           work=mywork.sections_for(user))


@bp.get("/liaisons")
@login_required
def liaisons():
    """联络员名录 (第二十一条): every filed liaison, for everyone."""
    return render_template("ui/liaisons.html", liaisons=services().roster.liaison_directory())


@bp.get("/documents")
@login_required
def documents():
    result = services().documents.page(signed_in_user(), **keyset_args())
    return render_template("ui/documents_list.html", result=result, jump=request.args.get("from", ""))


@bp.route("/documents/upload", methods=["GET", "POST"])
@streaming_upload()
@login_required
def upload():
    if request.method == "POST":
        try:
            doc = receive_upload(signed_in_user(), require_csrf=True)
        except DomainError as exc:
            db().rollback()
            return render_template("ui/upload.html", error=exc.message), status_of(exc)
        flash(f"已上传：{doc.title}")
        return redirect(url_for("pages.document", doc_id=doc.id))
    return render_template("ui/upload.html", error=None)


@bp.get("/documents/<int:doc_id>")
@login_required
def document(doc_id: int):
    doc = services().documents.get(signed_in_user(), doc_id)
    trail = services().activity.trail("document", doc.id)
    return render_template("ui/document.html", doc=doc, trail=trail)


@bp.get("/documents/<int:doc_id>/download")
@login_required
def download(doc_id: int):
    return download_response(signed_in_user(), doc_id, parse_query(VersionQuery).version)




@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """The user's API tokens with their expiry; a new token is shown once, here."""
    user, auth, created = signed_in_user(), services().authenticator, None
    if request.method == "POST":
        revoke = parse_form(TokenRevoke).revoke
        if revoke is not None:
            auth.revoke_token_id(user, revoke)
            flash("令牌已撤销")
            return redirect(url_for("pages.tokens"))
        created, row = auth.issue_token(user)
        flash(f"已创建访问令牌，有效期至 {local_time(row.expires_at)[:16]}。令牌只显示这一次，请妥善保存。")
    return render_template("ui/tokens.html", tokens=auth.tokens(user), created=created, now=runtime().clock.now(),
                           token_days=runtime().settings.token_days)
