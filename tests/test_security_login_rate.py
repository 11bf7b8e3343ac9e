"""Issue 7 finding 13: failed logins are limited per client address across user names too."""
from archive_service.runtime import Runtime
from security_support import PASSWORD, department, make_app, user


def test_one_address_trying_many_names_is_stopped(settings, rt):
    settings.login_rate_address = 6
    runtime = Runtime(settings, rt.engine, rt.factory, rt.store, rt.clock)
    real = user(runtime, department(runtime), "drafter")
    app = make_app(runtime)
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"

    def token(client, name, password):
        return client.post("/api/v1/auth/token", json={"username": name, "password": password}).status_code

    for i in range(6):  # one try per name: the per-name limit (5) is never reached
        assert token(attacker, f"guess{i}", "wrong-password") == 401
    assert token(attacker, "guess99", "wrong-password") == 429
    assert token(attacker, real, PASSWORD) == 429  # even the right password, from this address
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    assert token(other, real, PASSWORD) == 201  # another address is not affected
