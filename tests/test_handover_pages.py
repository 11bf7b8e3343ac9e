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
