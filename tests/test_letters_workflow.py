"""Letters (函) through the API: drafting, the sign-off chain, every illegal transition (409 + reason),
re-signing after an edit, joint letters, the classified refusal and who may see a draft."""

import pytest

from correspondence.numbering import NUMBER_RE
from letters_support import LETTER, act, draft


def test_draft_review_return_edit_sign_recheck_register(clients):
    letter = draft(clients)
    assert letter["state"] == "drafting" and letter["issuer"] == "县行政审批局"  # a section drafts for its bureau
    assert act(clients, "drafter", letter, "submit").status_code == 200
    resp = act(clients, "reviewer", letter, "return", "请补充法律依据")
    assert resp.get_json()["state"] == "drafting"
    client, headers = clients("drafter")
    resp = client.patch(f"/api/v1/letters/{letter['id']}", headers=headers,
                        json={"body": [*LETTER["body"], "依据《行政许可法》。"],
                              "version_sha256": letter["version_sha256"]})
    assert resp.status_code == 200, resp.get_json()
    v2 = resp.get_json()
    assert v2["version_sha256"] != letter["version_sha256"]
    chain = [("drafter", "submit", ""), ("reviewer", "pass", "可以"), ("signer", "sign", "同意印发")]
    for who, action, opinion in chain:
        resp = act(clients, who, v2, action, opinion)
        assert resp.status_code == 200, resp.get_json()
    signed = resp.get_json()
    assert signed["state"] == "rechecking" and signed["written_on"]
    sign_step = next(s for s in signed["steps"] if s["action"] == "sign")
    assert (sign_step["actor"], sign_step["opinion"], sign_step["version_sha256"]) == (
        "局长李明", "同意印发", v2["version_sha256"])
    assert act(clients, "clerk", v2, "recheck").status_code == 200
    registered = act(clients, "clerk", v2, "register").get_json()
    assert registered["state"] == "registered"
    m = NUMBER_RE.match(registered["number"])
    assert m and (m["prefix"], m["seq"]) == ("石审批函", "1")


def test_every_illegal_transition_answers_409_with_the_reason(clients):
    letter = draft(clients)
    cases = [  # (who, action, opinion) tried in state drafting
        ("reviewer", "pass", ""), ("signer", "sign", "同意"), ("clerk", "recheck", ""),
        ("clerk", "register", ""), ("clerk", "issue", ""), ("reviewer", "return", "改"),
    ]
    for who, action, opinion in cases:
        resp = act(clients, who, letter, action, opinion)
        assert resp.status_code == 409, (action, resp.get_json())
        assert "拟稿" in resp.get_json()["error"]["message"], resp.get_json()
    act(clients, "drafter", letter, "submit")
    for who, action in [("drafter", "submit"), ("signer", "sign"), ("drafter", "recheck"), ("drafter", "issue")]:
        resp = act(clients, who, letter, action, "同意")
        assert resp.status_code == 409 and "核稿" in resp.get_json()["error"]["message"]
    resp = act(clients, "reviewer", letter, "pass", sha="0" * 64)  # a version the chain is not bound to
    assert resp.status_code == 409 and "新版本" in resp.get_json()["error"]["message"]
    act(clients, "reviewer", letter, "pass")
    for who, action in [("reviewer", "pass"), ("drafter", "register"), ("drafter", "issue")]:
        resp = act(clients, who, letter, action)
        assert resp.status_code == 409 and "签发" in resp.get_json()["error"]["message"]
    act(clients, "signer", letter, "sign", "同意")
    resp = act(clients, "signer", letter, "sign", "再签一次")
    assert resp.status_code == 409
    for who, action in [("drafter", "register"), ("drafter", "issue")]:
        assert act(clients, who, letter, action).status_code == 409
    act(clients, "clerk", letter, "recheck")
    assert act(clients, "clerk", letter, "issue").status_code == 409  # 登记 first
    act(clients, "clerk", letter, "register")
    assert act(clients, "clerk", letter, "register").status_code == 409
    client, headers = clients("drafter")
    resp = client.patch(f"/api/v1/letters/{letter['id']}", headers=headers, json={"title": "改标题"})
    assert resp.status_code == 409 and "已登记" in resp.get_json()["error"]["message"]
    assert act(clients, "drafter", letter, "fly").status_code == 422  # not an action: refused by the model


def test_wrong_role_or_department_is_refused(clients):
    letter = draft(clients)
    assert act(clients, "reviewer", letter, "submit").status_code == 403  # submit needs the drafter role
    act(clients, "drafter", letter, "submit")
    assert act(clients, "drafter", letter, "pass").status_code == 403
    resp = act(clients, "reviewer", letter, "return", "")
    assert resp.status_code == 422 and "修改意见" in resp.get_json()["error"]["message"]
    act(clients, "reviewer", letter, "pass")
    assert act(clients, "reviewer", letter, "sign", "同意").status_code == 403  # reviewer is no signer
    assert act(clients, "scjg_leader", letter, "sign", "同意").status_code == 404  # cannot even see it
    resp = act(clients, "signer", letter, "sign", "")
    assert resp.status_code == 422 and "签发意见" in resp.get_json()["error"]["message"]


def test_edit_after_signing_voids_the_signature(clients):
    letter = draft(clients)
    for who, action, op in [("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意")]:
        act(clients, who, letter, action, op)
    client, headers = clients("drafter")
    resp = client.patch(f"/api/v1/letters/{letter['id']}", headers=headers,
                        json={"title": "关于商请协助研究食品经营许可有关问题的函（修改）"})
    edited = resp.get_json()
    assert resp.status_code == 200 and edited["state"] == "signing" and edited["written_on"] is None
    assert [s["voided"] for s in edited["steps"] if s["action"] == "sign"] == [True]
    assert act(clients, "clerk", edited, "recheck").status_code == 409
    assert act(clients, "signer", letter, "sign", "同意").status_code == 409  # the old digest
    assert act(clients, "signer", edited, "sign", "同意（修改后）").get_json()["state"] == "rechecking"
    resp = client.patch(f"/api/v1/letters/{letter['id']}", headers=headers,  # edited from a stale copy
                        json={"note": "联系人：王五", "version_sha256": letter["version_sha256"]})
    assert resp.status_code == 409 and "新版本" in resp.get_json()["error"]["message"]


def test_joint_letter_needs_the_countersignature(clients):
    letter = draft(clients, co_issuers=["县市场监督管理局"], to=["县住房和城乡建设局"], cc=[])
    for who, action, op in [("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意")]:
        assert act(clients, who, letter, action, op).status_code == 200
    assert act(clients, "clerk", letter, "recheck").status_code == 409  # waiting for 会签
    resp = act(clients, "scjg_leader", letter, "sign", "会签同意")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "rechecking"
    assert [s["action"] for s in resp.get_json()["steps"]][-1] == "countersign"


def test_classified_content_and_bad_input_are_refused(clients):
    client, headers = clients("drafter")
    for level in ("秘密", "机密", "绝密"):
        resp = client.post("/api/v1/letters", headers=headers, json={**LETTER, "classification": level})
        assert resp.status_code == 422
        assert "非密" in resp.get_json()["error"]["message"] and level in resp.get_json()["error"]["message"]
    for body, field in [({**LETTER, "to": []}, "to"), ({**LETTER, "title": " "}, "title"),
                        ({**LETTER, "body": []}, "body"), ({**LETTER, "urgency": "急"}, "urgency"),
                        ({**LETTER, "to": ["不存在的局"]}, None), ({**LETTER, "to": ["市场准入审批股"]}, "to"),
                        ({**LETTER, "colour": "red"}, "colour")]:
        resp = client.post("/api/v1/letters", headers=headers, json=body)
        assert resp.status_code == 422, body
        if field:
            assert resp.get_json()["error"]["details"]["field"] == field
    assert client.get("/api/v1/letters", headers=headers).get_json()["drafts"] == []


def test_other_departments_get_404(clients):
    letter = draft(clients)
    for who in ("scjg_staff", "zjj_staff", "liaison_tzjs"):
        client, headers = clients(who)
        assert client.get(f"/api/v1/letters/{letter['id']}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/letters/{letter['id']}/preview", headers=headers).status_code == 404
    client, headers = clients("signer")  # the bureau's signer sees its section's draft
    assert client.get(f"/api/v1/letters/{letter['id']}", headers=headers).status_code == 200


def test_minutes_drafts_through_the_service(rt, county):
    from sqlalchemy import select

    from archive_service.errors import Unprocessable
    from archive_service.models import User
    from correspondence.letters import LetterService

    with rt.factory() as s:
        signer = s.scalar(select(User).where(User.username == "signer"))
        assert signer is not None
        svc = LetterService(s, rt.documents(s), rt.clock)
        with pytest.raises(Unprocessable):  # minutes come from a meeting only (MinutesService.draft)
            svc.create_draft(signer, kind="minutes", title="联席会议纪要", distribution=["县市场监督管理局"],
                             body=["一、会议议定事项"], meeting_id=7,
                             attendance={"出席": ["县行政审批局 李明"], "请假": [], "列席": []})


def test_preview_and_openapi(clients):
    letter = draft(clients)
    client, headers = clients("drafter")
    resp = client.get(f"/api/v1/letters/{letter['id']}/preview", headers=headers)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/letters", "/api/v1/letters/{id}/actions", "/api/v1/inbox/{id}/actions"} <= set(paths)
