"""Views hold no queries: every query lives in a service or a core module, looked up by the views
(web/services.py). A view may roll back what a caught error left half done (``db().rollback()``), but it
neither imports SQLAlchemy, nor calls the session's query methods, nor hands the request's session to a
function of its own choosing (``audit_page(db(), ...)``: look the service up instead), nor opens a session
of its own (``independent_unit()``, ``factory()``: the registry does, e.g. ``services().record_apart``),
nor commits: the request is one unit of work that commits once after the response (web/context.py); what
must follow the commit is registered with ``after_commit``.

(`lint-imports` checks the import half too; this test also catches ``db().get(Model, id)``.)"""
import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "archive_service" / "web"

# The request's session is made (context.py) and handed to the services (services.py) here.
OWNERS = {"context.py", "services.py"}
# Methods of a session (or of its results) that run or stage a query.
SESSION_METHODS = {"query", "execute", "scalars", "scalar", "get", "get_one", "add", "add_all", "delete", "merge",
                   "flush", "refresh", "expunge", "connection", "commit"}
ALWAYS_QUERIES = {"query", "execute", "scalars", "scalar", "get_one"}
# Calls whose value (or `with ... as` target) is a session.
SESSION_MAKERS = {"db", "factory", "independent_unit", "transaction"}


def _called_name(node) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return None


def _session_names(tree) -> set[str]:
    names = {"session"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _called_name(node.value) in SESSION_MAKERS:
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if _called_name(item.context_expr) in SESSION_MAKERS and isinstance(item.optional_vars, ast.Name):
                    names.add(item.optional_vars.id)
    return names


def violations(source: str, name: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    sessions = _session_names(tree)
    rollbacks = {id(node.func.value) for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr == "rollback"}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "db"
                and id(node) not in rollbacks):
            found.append(f"{name}:{node.lineno}: db() in a view (reach the look-up through services(), "
                         "e.g. services().roster)")
        elif isinstance(node, ast.Call) and _called_name(node) in SESSION_MAKERS - {"db"}:
            found.append(f"{name}:{node.lineno}: a session of the view's own (the registry's services own them, "
                         "e.g. services().record_apart)")
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"{name}:{node.lineno}: imports {m}" for m in modules if m.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, receiver = node.func.attr, node.func.value
            on_session = _called_name(receiver) in SESSION_MAKERS or (
                isinstance(receiver, ast.Name) and receiver.id in sessions)
            always = method in ALWAYS_QUERIES and _is_query_receiver(receiver)
            if method == "commit":  # any receiver: only the request's unit of work commits
                found.append(f"{name}:{node.lineno}: .commit() in a view (use the request's unit of work, "
                             "after_commit for what must follow it)")
            elif (method in SESSION_METHODS and on_session) or always:
                found.append(f"{name}:{node.lineno}: .{method}(...) on the session")
    return found


def _is_query_receiver(receiver) -> bool:
    """`x.execute(...)`/`x.scalars(...)` on anything but a plain object of ours (e.g. `conn.execute`)."""
    return not (isinstance(receiver, ast.Name) and receiver.id in {"self", "svc", "service", "services"})


def test_no_view_imports_sqlalchemy_or_queries_the_session():
    found = []
    for path in sorted(WEB.glob("*.py")):
        if path.name not in OWNERS:
            found += violations(path.read_text(encoding="utf-8"), path.name)
    assert found == [], "move the query into the owning service (web/services.py):\n" + "\n".join(found)


def test_the_check_sees_the_ways_a_view_queries():
    """The rule catches what it is for (and leaves a session passed on alone)."""
    bad = '''
from sqlalchemy import select
def view():
    row = db().get(Department, 1)
    rows = db().scalars(select(Department))
    s = db()
    s.add(row)
    with factory() as own:
        own.execute(q)
    db().commit()
    svc.session.commit()
    page = audit_page(db(), {}, 50)
    return session.query(Department).all()
'''
    assert len(violations(bad, "bad.py")) == 14  # (a db() followed by a query method counts twice)
    good = '''
def view():
    after_commit(lambda: svc.apply_retention(item))
    db().rollback()
    page = services().activity.page({}, 50)
    services().record_apart(user, "x", "y", 1)
    return request.args.get("q"), services().documents.get(user, 1)
'''
    assert violations(good, "good.py") == []

