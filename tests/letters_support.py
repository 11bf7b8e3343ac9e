"""Helpers for the letters tests: a letter to draft and API shortcuts (the `clients` fixture is in conftest.py)."""
from __future__ import annotations

LETTER = {"title": "关于商请协助研究食品经营许可有关问题的函", "to": ["县市场监督管理局"], "cc": ["县卫生健康委员会"],
          "body": ["根据第二十二条规定，现函商如下：", "一、基本情况", "（一）申请人情况", "1.经营场所", "(1)面积",
                   "特此函商。"],
          "note": "联系人：张伟，电话：0797-1234567", "urgency": "加急"}


def post(clients, who, url, **body):
    client, headers = clients(who)
    return client.post(url, json=body, headers=headers)


def act(clients, who, letter, action, opinion="", sha=None):
    return post(clients, who, f"/api/v1/letters/{letter['id']}/actions", action=action, opinion=opinion,
                version_sha256=sha or letter["version_sha256"])


def draft(clients, who="drafter", **overrides):
    resp = post(clients, who, "/api/v1/letters", **{**LETTER, **overrides})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


SIGN_OFF = (("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意印发"),
            ("clerk", "recheck", ""), ("clerk", "register", ""))


def signed_off(clients, letter, chain=SIGN_OFF):
    for who, action, opinion in chain:
        resp = act(clients, who, letter, action, opinion)
        assert resp.status_code == 200, (action, resp.get_json())
    return resp.get_json()

