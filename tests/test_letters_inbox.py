"""印发 and 收文: the issued files, who may read them, 签收 → 登记 → 承办 → 答复, copies, overdue marks."""
import io
from datetime import datetime

import pdfplumber

from archive_service.clock import FixedClock
from archive_service.workdays import load_calendar
from letters_support import act, draft, post, signed_off


def issue(clients, letter, who="clerk"):
    resp = act(clients, who, letter, "issue")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def inbox_act(clients, who, item_id, action, **extra):
    return post(clients, who, f"/api/v1/inbox/{item_id}/actions", action=action, **extra)


def test_issue_then_inbox_reply_thread(clients, rt):
    rt.clock = FixedClock(datetime(2026, 11, 27, 2, 0))  # a Friday, 10:00 in China
    letter = draft(clients, upward=True)
    client, sczr = clients("drafter")
    resp = client.post(f"/api/v1/letters/{letter['id']}/attachments", headers=sczr,
                       data={"file": (io.BytesIO("食品经营许可申请材料清单".encode()), "材料清单.txt")})
    assert resp.status_code == 201, resp.get_json()
    with_attachment = resp.get_json()
    assert [a["name"] for a in with_attachment["attachments"]] == ["材料清单"]
    assert with_attachment["version_sha256"] != letter["version_sha256"]  # the attachment is part of what is signed
    draft_doc = client.get(f"/api/v1/documents/{letter['document_id']}", headers=sczr).get_json()
    assert draft_doc["sha256"] == with_attachment["version_sha256"] and draft_doc["version"] == 2
    letter = signed_off(clients, with_attachment)
    with rt.factory() as s:
        from correspondence.issuing import spec_for
        from correspondence.letters import LetterService
        from correspondence.models import Letter

        spec = spec_for(LetterService(s, rt.documents(s), rt.clock), s.get(Letter, letter["id"]))
    assert spec["signer"] == "局长李明" and spec["attachments"] == ["材料清单"] and spec["date"] == "2026-11-27"
    issued = issue(clients, letter)
    assert issued["state"] == "issued" and issued["number"].startswith("石审批函〔2026〕")
    assert act(clients, "clerk", letter, "issue").status_code == 409  # only once

    client, scjg = clients("scjg_staff")
    base = f"/api/v1/letters/{letter['id']}"
    pdf = client.get(base + "/files/pdf", headers=scjg)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(base + "/files/docx", headers=scjg).data[:2] == b"PK"
    assert client.get(base + "/files/sheet", headers=scjg).status_code == 404  # internal opinions stay home
    report = client.get(base + "/signature", headers=scjg).get_json()
    assert report["ok"] and "县行政审批局" in report["summary"]
    seen = client.get(base, headers=scjg).get_json()
    assert "steps" not in seen and seen["document_id"] is None  # no drafting history for recipients
    sheet = client.get(base + "/files/sheet", headers=sczr).data
    with pdfplumber.open(io.BytesIO(sheet)) as pdf:
        text = "".join(p.extract_text() or "" for p in pdf.pages)
    assert "发文稿纸" in text and "局长李明" in text and "同意印发" in text
    att_id = [d for d in client.get("/api/v1/documents", headers=scjg).get_json()["items"] if d["title"] == "材料清单"]
    assert len(att_id) == 1  # the recipient reads the attachment too

    # a department that is neither issuer nor recipient sees nothing
    _, zjj = clients("zjj_staff")
    assert client.get(base, headers=zjj).status_code == 404
    assert client.get(base + "/files/pdf", headers=zjj).status_code == 404
    assert client.get("/api/v1/inbox", headers=zjj).get_json()["items"] == []

    # the copy (抄送) only signs for it
    _, wjw = clients("wjw_staff")
    [copy] = client.get("/api/v1/inbox", headers=wjw).get_json()["items"]
    assert copy["role"] == "cc" and copy["state"] == "pending"
    assert inbox_act(clients, "wjw_staff", copy["id"], "receive").status_code == 403  # the 办公室 signs for it
    assert inbox_act(clients, "wjw_clerk", copy["id"], "receive").status_code == 200
    resp = inbox_act(clients, "wjw_clerk", copy["id"], "register")
    assert resp.status_code == 409 and "抄送" in resp.get_json()["error"]["message"]
    assert inbox_act(clients, "zjj_staff", copy["id"], "receive").status_code == 404

    [item] = client.get("/api/v1/inbox", headers=scjg).get_json()["items"]
    assert (item["role"], item["state"], item["number"]) == ("to", "pending", issued["number"])
    resp = inbox_act(clients, "scjg_clerk", item["id"], "register")
    assert resp.status_code == 409 and "待签收" in resp.get_json()["error"]["message"]
    assert inbox_act(clients, "scjg_staff", item["id"], "reply").status_code == 409
    resp = inbox_act(clients, "scjg_staff", item["id"], "receive")
    assert resp.status_code == 403 and "文书" in resp.get_json()["error"]["message"]
    received = inbox_act(clients, "scjg_clerk", item["id"], "receive").get_json()["item"]
    assert received["state"] == "received" and received["received_at"].startswith("2026-11-27")
    assert inbox_act(clients, "scjg_clerk", item["id"], "receive").status_code == 409
    registered = inbox_act(clients, "scjg_clerk", item["id"], "register").get_json()["item"]
    assert registered["incoming_number"] == "石市监收〔2026〕1号"
    assert inbox_act(clients, "scjg_clerk", item["id"], "review").status_code == 200
    assert inbox_act(clients, "scjg_clerk", item["id"], "propose", opinion="请市场经办人研究答复").status_code == 200
    resp = inbox_act(clients, "scjg_leader", item["id"], "assign", handler="sfj_staff")
    assert resp.status_code == 422  # a handler of another department
    assert inbox_act(clients, "scjg_clerk", item["id"], "assign", handler="scjg_staff").status_code == 403  # 批办
    assigned = inbox_act(clients, "scjg_leader", item["id"], "assign", handler="scjg_staff").get_json()["item"]
    with rt.factory() as s:
        expected = load_calendar(s).add_workdays(rt.clock.today(), rt.settings.handling_days)
    assert assigned["due_on"] == expected.isoformat() and not assigned["overdue"]

    reply_id = inbox_act(clients, "scjg_staff", item["id"], "reply").get_json()["reply_letter_id"]
    _, headers = clients("scjg_staff")
    reply = client.get(f"/api/v1/letters/{reply_id}", headers=headers).get_json()
    assert reply["to"] == ["县行政审批局"] and reply["reply_to_id"] == letter["id"] and "复函" in reply["title"]
    chain = (("scjg_staff", "submit", ""), ("scjg_leader", "pass", ""), ("scjg_leader", "sign", "同意"),
             ("scjg_clerk", "recheck", ""), ("scjg_clerk", "register", ""))
    reply = signed_off(clients, reply, chain)
    assert reply["number"] == "石市监函〔2026〕1号"
    issue(clients, reply, "scjg_clerk")
    done = client.get("/api/v1/inbox", headers=scjg).get_json()["items"][0]
    assert done["state"] == "replied" and done["reply_letter_id"] == reply_id

    # the thread is visible on both sides; the bureau finds the reply in its inbox
    _, signer = clients("signer")
    assert [i["letter_id"] for i in client.get("/api/v1/inbox", headers=signer).get_json()["items"]] == [reply_id]
    assert client.get(f"/api/v1/letters/{reply_id}", headers=sczr).status_code == 200

    # later: the due date passed and it is marked overdue only while not replied
    rt.clock.advance(days=25)  # past the due date, within the 30 days the bearer tokens live
    assert client.get("/api/v1/inbox", headers=scjg).get_json()["items"][0]["overdue"] is False


def test_overdue_items_are_marked(clients, rt, make, county):
    rt.clock = FixedClock(datetime(2026, 11, 27, 2, 0))
    letter = issue(clients, signed_off(clients, draft(clients, cc=[])))
    client, scjg = clients("scjg_staff")
    [item] = client.get("/api/v1/inbox", headers=scjg).get_json()["items"]
    steps = (("receive", {}), ("register", {}), ("review", {}), ("propose", {"opinion": "拟请经办人办理"}))
    for action, extra in steps:
        assert inbox_act(clients, "scjg_clerk", item["id"], action, **extra).status_code == 200
    resp = inbox_act(clients, "scjg_leader", item["id"], "assign", handler="scjg_staff", days=2)
    assert resp.get_json()["item"]["due_on"] == "2026-12-01"  # Fri → Mon, Tue
    assert resp.get_json()["item"]["reminder"] == "临近办理期限（还有 2 个工作日）"  # 催办 before the due date
    rt.clock.advance(days=5)  # Wednesday 2 December: one working day late
    late = client.get("/api/v1/inbox", headers=scjg).get_json()["items"][0]
    assert late["overdue"] is True and late["reminder"] == "已逾期 1 个工作日"
    reminded = inbox_act(clients, "scjg_clerk", item["id"], "remind", opinion="请抓紧办理").get_json()
    assert "已逾期 1 个工作日" in reminded["message"]
    assert [s["label"] for s in reminded["item"]["steps"]] == ["签收", "登记", "初审", "拟办", "批办", "催办"]
    b = make.browser(county["scjg_staff"])
    assert "已逾期" in b.get("/inbox").get_data(as_text=True)
    assert "已逾期" in b.get("/").get_data(as_text=True)
    assert letter["title"] in b.get("/").get_data(as_text=True)


def test_a_failure_during_issue_leaves_no_half_issued_letter(clients, rt):
    """印发 writes the blobs first and then every row in one transaction: a failure changes nothing."""
    from sqlalchemy import func, select

    from archive_service.models import Document
    from correspondence.models import Letter

    letter = signed_off(clients, draft(clients))

    from failure_injection import FlushFailure

    with rt.factory() as s:
        before = s.scalar(select(func.count()).select_from(Document))
    with FlushFailure(rt.factory).armed(12):  # well into the issue: after documents and grants
        failed = act(clients, "clerk", letter, "issue")
    assert failed.status_code == 500
    with rt.factory() as s:
        row = s.get(Letter, letter["id"])
        assert row.issued_at is None and row.final_document_id is None and row.sheet_document_id is None
        assert s.scalar(select(func.count()).select_from(Document)) == before
    issued = issue(clients, letter)
    assert issued["number"] and issued["state"] == "issued"
