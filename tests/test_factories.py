"""The test-data builders (tests/factories.py) make rows the real services accept."""
from datetime import date, timedelta

from factories import PASSWORD, small_county


def test_departments_users_and_documents(rt, make):
    section = make.department("section")
    assert section.kind == "section" and section.parent.kind == "bureau"
    a, b = make.department(), make.department()
    assert a.kind == "regulator" and (a.name, a.code) != (b.name, b.code)
    user = make.user(section, "drafter", "reviewer")
    assert user.roles == {"drafter", "reviewer"} and user.department_id == section.id
    doc = make.document(user, b"hello")
    with rt.factory() as s:
        assert b"".join(rt.store.open(rt.documents(s).get(user, doc.id).versions[0].blob_sha256)) == b"hello"
    client, headers = make.api(user)
    assert client.get("/api/v1/me", headers=headers).get_json()["username"] == user.username
    token = make.client().post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert token.status_code == 201
    assert make.browser(user).get("/").status_code == 200


def test_letters_and_meetings(make):
    people = small_county(make)
    letter = make.letter(people["drafter"], to=["县市场监督管理局"])
    assert letter.kind == "letter" and letter.issuer.code == "SPJ"
    client, headers = make.api(people["drafter"])
    assert client.get(f"/api/v1/letters/{letter.id}", headers=headers).get_json()["state"] == "drafting"
    meeting = make.meeting(people["drafter"], date.today() + timedelta(days=30),
                           participants=[{"department": "SCJG"}])
    assert meeting.chair.username == "signer" and meeting.convener.code == "SPJ"
