"""The Chinese web UI: login, CSRF, upload, detail, admin and auditor pages."""
import io

from sqlalchemy import func, select

from archive_service.models import Document
from factories import PASSWORD


def test_login_page_and_generic_failure(make):
    make.user(username="drafter")
    b = make.browser()
    assert "登录" in b.get("/login").get_data(as_text=True)
    resp = b.login("drafter", "wrong-password")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    assert b.get("/").status_code == 302


def test_login_without_csrf_is_refused(make):
    make.user(username="drafter")
    resp = make.client().post("/login", data={"username": "drafter", "password": PASSWORD})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)


def test_upload_list_detail_download(make):
    b = make.browser(make.user())
    resp = b.post("/documents/upload", content_type="multipart/form-data",
                  data={"title": "会议材料", "file": (io.BytesIO("联席会议材料".encode()), "会议材料.txt")})
    assert resp.status_code == 302
    detail = b.get(resp.headers["Location"]).get_data(as_text=True)
    assert "会议材料" in detail and "SM3" in detail and "上传文档" in detail
    listing = b.get("/documents").get_data(as_text=True)
    assert "会议材料.txt" in listing and "text/plain" in listing
    doc_id = resp.headers["Location"].rstrip("/").split("/")[-1]
    download = b.get(f"/documents/{doc_id}/download")
    assert download.data == "联席会议材料".encode()
    assert "下载文档" in b.get(f"/documents/{doc_id}").get_data(as_text=True)


def test_upload_without_csrf_stores_nothing(rt, make):
    b = make.browser(make.user())
    with rt.factory() as s:
        before = s.scalar(select(func.count()).select_from(Document))
    resp = b.client.post("/documents/upload", data={"file": (io.BytesIO(b"abc"), "a.txt")},
                         content_type="multipart/form-data")
    assert resp.status_code == 400
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == before


def test_upload_errors_are_shown_in_chinese(make):
    b = make.browser(make.user())
    resp = b.post("/documents/upload", data={"file": (io.BytesIO(b""), "empty.txt")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "文件为空" in resp.get_data(as_text=True)


def test_home_shows_recent_documents_and_activity(make):
    drafter = make.user()
    make.document(drafter, title="关于加强审管联动工作的通知")
    page = make.browser(drafter).get("/").get_data(as_text=True)
    assert "关于加强审管联动工作的通知" in page and "最近动态" in page


def test_foreign_document_page_is_404(make):
    foreign = make.document(make.user())
    b = make.browser(make.user())  # a user of another department
    assert b.get(f"/documents/{foreign.id}").status_code == 404


def test_admin_pages_need_admin(make):
    b = make.browser(make.user())
    for url in ("/admin/departments", "/admin/users", "/admin/liaisons", "/admin/calendar"):
        assert b.get(url).status_code == 403
    assert b.get("/audit/").status_code == 403


def test_admin_manages_departments_users_roles(make):
    bureau = make.department("bureau", name="县行政审批局")
    make.department("section", name="办公室", parent=bureau)
    make.department("regulator", name="县市场监督管理局")
    make.department("other", name="县司法局")
    b = make.browser(make.user(bureau, "admin"))
    page = b.get("/admin/departments").get_data(as_text=True)
    for name in ("县行政审批局", "办公室", "县市场监督管理局", "县司法局"):
        assert name in page
    added = b.post("/admin/departments", data={"name": "县应急管理局", "code": "YJJ", "kind": "regulator"})
    assert added.status_code == 302
    assert "县应急管理局" in b.get("/admin/departments").get_data(as_text=True)
    dup = b.post("/admin/departments", data={"name": "县应急管理局", "code": "YJJ2", "kind": "regulator"})
    assert dup.status_code == 409 and "已存在" in dup.get_data(as_text=True)
    resp = b.post("/admin/users", data={"username": "yjj_staff", "full_name": "应急经办人", "department": "YJJ",
                                        "password": "long-enough-1", "roles": ["drafter", "liaison"]})
    assert resp.status_code == 302
    assert "应急经办人" in b.get("/admin/users").get_data(as_text=True)
    bad = b.post("/admin/users", data={"username": "x1", "full_name": "x", "department": "YJJ",
                                       "password": "short", "roles": ["drafter"]})
    assert bad.status_code == 422 and "密码至少 8 位" in bad.get_data(as_text=True)
    newcomer = make.browser()
    assert newcomer.login("yjj_staff", "long-enough-1").status_code == 302


def test_admin_files_liaison_and_gap_closes(make):
    bureau = make.department("bureau", name="县行政审批局", code="SPJ")
    regulator = make.department("regulator", name="县生态环境局")
    make.user(regulator, "liaison", full_name="生态联络员")
    b = make.browser(make.user(bureau, "admin"))
    assert "县生态环境局 尚未向 县行政审批局 备案联络员" in b.get("/admin/liaisons").get_data(as_text=True)
    users = b.get("/admin/liaisons").get_data(as_text=True)
    import re
    user_id = re.search(r'<option value="(\d+)">生态联络员', users).group(1)
    assert b.post("/admin/liaisons", data={"action": "file", "user_id": user_id, "filed_with": "SPJ",
                                           "phone": "0797-2222222"}).status_code == 302
    assert "均已备案" in b.get("/admin/liaisons").get_data(as_text=True)


def test_admin_edits_calendar(make):
    b = make.browser(make.user(None, "admin"))
    page = b.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027 年尚无国务院节假日安排" in page
    set_day = b.post("/admin/calendar", data={"day": "2027-02-20", "is_workday": "1", "note": "2027年春节调休"})
    assert set_day.status_code == 302
    page = b.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027年春节调休" in page and "2027 年尚无国务院节假日安排" in page
    assert b.post("/admin/calendar", data={"action": "confirm_year", "year": "2027"}).status_code == 302
    assert "2027 年尚无国务院节假日安排" not in b.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert b.post("/admin/calendar", data={"day": "not-a-date"}).status_code == 422


def test_auditor_browses_and_exports(make):
    b = make.browser(make.user(None, "auditor"))
    page = b.get("/audit/?action=admin.").get_data(as_text=True)
    assert "admin.user_added" in page
    assert "哈希链完整" in b.get("/audit/?verify=1").get_data(as_text=True)
    csv = b.get("/audit/export.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert text.startswith("\ufeffid,时间,操作人") and "auth.login" in text


def test_logout_needs_csrf_and_ends_session(make):
    b = make.browser(make.user())
    assert b.client.post("/logout").status_code == 400
    assert b.post("/logout").status_code == 302
    assert b.get("/").status_code == 302
