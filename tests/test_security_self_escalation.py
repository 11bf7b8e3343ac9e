"""Issue 7 finding 9: nobody changes their own roles or department; role changes are audited."""
import json

from sqlalchemy import select

from archive_service.models import AuditEvent, Department, User
from security_support import Client, department, make_app, user


def _user(rt, name):
    with rt.factory() as s:
        u = s.scalar(select(User).where(User.username == name))
        return u.id, sorted(u.roles), u.department.code


def test_admin_cannot_escalate_or_move_themselves(rt):
    office, other = department(rt), department(rt)
    admin, second = user(rt, office, "admin"), user(rt, office, "admin")
    app = make_app(rt)
    c = Client(app)
    assert c.login(admin).status_code == 302
    me, roles, dept = _user(rt, admin)
    page = c.get("/admin/users").get_data(as_text=True)
    assert "本人的角色和部门须由另一位系统管理员修改" in page
    resp = c.post(f"/admin/users/{me}", data={"action": "roles", "roles": ["admin", "auditor"]})
    assert resp.status_code == 403
    resp = c.post(f"/admin/users/{me}", data={"action": "department", "department": other})
    assert resp.status_code == 403
    assert _user(rt, admin) == (me, roles, dept)
    assert c.get("/audit/").status_code == 403  # still no auditor

    # another administrator may, and it is audited with before and after
    c2 = Client(app)
    assert c2.login(second).status_code == 302
    assert c2.post(f"/admin/users/{me}", data={"action": "roles", "roles": ["admin", "drafter"]}).status_code == 302
    assert c2.post(f"/admin/users/{me}", data={"action": "department", "department": other}).status_code == 302
    assert _user(rt, admin)[1:] == (["admin", "drafter"], other)
    with rt.factory() as s:
        events = {e.action: e for e in s.scalars(select(AuditEvent).where(AuditEvent.target_id == str(me)))}
        other_id = s.scalar(select(Department.id).where(Department.code == other))
    changed = events["admin.roles_changed"]
    assert changed.actor_name == second
    assert json.loads(changed.details) == {"before": ["admin"], "after": ["admin", "drafter"]}
    assert json.loads(events["admin.user_moved"].details)["to"] == other_id
