"""The 移交 and 待接收 pages: build a manifest by 全宗/年度/保管期限, sign, receive, see the report, accept,
download the 交接文据; 我的工作 lists what waits."""
from __future__ import annotations

import re

from archive_service.archive.models import ArchiveItem
from handover_support import blob_path, file_items, flip_byte, restore, setup_fonds


def _act(b, hid, action, **extra):
    resp = b.post(f"/handovers/{hid}/act", data={"action": action, **extra})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return b.get(f"/handovers/{hid}").get_data(as_text=True)


def test_pages_flow(rt, make, county):
    setup_fonds(rt)
    ids = file_items(rt, "zjj_staff", 4)
    sender, leader = make.browser(county["zjj_staff"]), make.browser(county["zjj_leader"])
    receiver, signer = make.browser(county["archivist"]), make.browser(county["signer"])
    page = sender.get("/handovers").get_data(as_text=True)
    assert "新建移交清单" in page and "按检索词" in page and "按全宗号" in page and "逐件" in page
    resp = sender.post("/handovers", data={"name": "许可档案移交", "description": "四件", "to_department": "SPJ",
                                           "fonds": "J012", "retention": "D30"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    hid = int(re.search(r"/handovers/(\d+)", resp.headers["Location"]).group(1))
    page = sender.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "草稿" in page and page.count("J012-WS·") >= 4
    with rt.factory() as s:
        sha = s.get(ArchiveItem, ids[1]).parts[0].sha256
        code = s.get(ArchiveItem, ids[1]).archival_code
    original = flip_byte(blob_path(rt, sha))
    assert "移交与接收" in sender.get("/").get_data(as_text=True)  # 我的工作: 待提交
    _act(sender, hid, "submit")
    assert "待签署" in leader.get("/").get_data(as_text=True)
    _act(leader, hid, "sign", reason="同意移交")
    incoming = receiver.get("/handovers/incoming").get_data(as_text=True)
    assert "许可档案移交" in incoming
    page = _act(receiver, hid, "receive")
    assert "检验未通过" in page and code in page and "摘要值与存储内容一致" in page
    page = _act(receiver, hid, "accept")
    assert "接收检验未通过，不能接收" in page
    _act(receiver, hid, "reject", reason="一件摘要不符")
    restore(blob_path(rt, sha), original)
    assert "被退回待修改" in sender.get("/").get_data(as_text=True)
    resp = sender.post(f"/handovers/{hid}/edit", data={"items": ",".join(map(str, ids))})
    assert resp.status_code == 302
    assert "第 2 版" in sender.get(f"/handovers/{hid}").get_data(as_text=True)
    _act(sender, hid, "submit")
    _act(leader, hid, "sign", reason="同意")
    page = _act(receiver, hid, "receive")
    assert "检验通过" in page and "第 1 版" in page and "第 2 版" in page
    _act(receiver, hid, "accept")
    page = _act(signer, hid, "sign", reason="同意接收")
    assert "已接收" in page
    pdf = receiver.get(f"/api/v1/handovers/{hid}/record.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and b"/ByteRange" in pdf.data


def test_receiver_records_exceptions_on_the_manifest_page(rt, make, county):
    """A failing check can be excused item by item from the report table (reason required, audited)."""
    import json

    from sqlalchemy import select

    from archive_service.models import AuditEvent

    setup_fonds(rt)
    ids = file_items(rt, "zjj_staff", 2)
    sender, leader = make.browser(county["zjj_staff"]), make.browser(county["zjj_leader"])
    receiver = make.browser(county["archivist"])
    resp = sender.post("/handovers", data={"name": "两件移交", "description": "", "to_department": "SPJ",
                                           "items": ",".join(map(str, ids))})
    hid = int(re.search(r"/handovers/(\d+)", resp.headers["Location"]).group(1))
    with rt.factory() as s:
        sha = s.get(ArchiveItem, ids[0]).parts[0].sha256
    original = flip_byte(blob_path(rt, sha))
    try:
        _act(sender, hid, "submit")
        _act(leader, hid, "sign", reason="同意")
        page = _act(receiver, hid, "receive")
    finally:
        restore(blob_path(rt, sha), original)
    assert "作为例外" in page and "记录例外并同意接收" in page and "data-confirm" in page
    boxes = re.findall(r'name="exception" value="([^"]+)"', page)
    assert f"{ids[0]}:digests_match" in boxes and all(b.startswith(f"{ids[0]}:") for b in boxes)

    # ticked without a reason: refused, nothing changes
    page = _act(receiver, hid, "accept", exception=boxes[0])
    assert "须写明理由" in page
    assert "记录例外并同意接收" in page  # still received: the form is still offered
    # only some of the failures excused: still refused
    if len(boxes) > 1:
        page = _act(receiver, hid, "accept", exception=boxes[0], **{f"reason:{boxes[0]}": "原件已核对"})
        assert "接收检验未通过，不能接收" in page
    reasons = {f"reason:{b}": "已与移交单位核对纸质原件，内容一致" for b in boxes}
    page = _act(receiver, hid, "accept", exception=boxes, **reasons)
    assert "记录例外并同意接收" not in page and "接收检验未通过" not in page
    with rt.factory() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "handover.accept",
                                                AuditEvent.target_id == str(hid))).one()
        recorded = json.loads(ev.details)["exceptions"]
    assert {(e["item_id"], e["check"]) for e in recorded} == {(ids[0], b.split(":")[1]) for b in boxes}
    assert all(e["reason"] == "已与移交单位核对纸质原件，内容一致" for e in recorded)
