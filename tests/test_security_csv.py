"""Issue 7 finding 11: a user name such as =HYPERLINK(…) is exported as text, never as a live formula."""
import csv
import io

from security_support import Client, department, make_app, user

EVIL = '=HYPERLINK("http://evil.example","click")'


def test_audit_csv_neutralises_formulas(rt):
    office = department(rt)
    auditor = user(rt, office, "auditor")
    app = make_app(rt)
    for name in (EVIL, "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"):
        assert Client(app).login(name, "wrong-password").status_code == 401
    c = Client(app)
    assert c.login(auditor).status_code == 302
    resp = c.get("/audit/export.csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + EVIL in cells  # the failed login's target id
    assert not [c for c in cells if c[:1] in {"=", "+", "-", "@", "\t", "\r"}], cells
    for name in ("+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"):
        assert "'" + name in cells
