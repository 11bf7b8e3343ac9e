"""BagIt packages of a manifest: export validates with the bagit library, our import takes it back;
a flipped byte, zip-slip, absolute paths and symlinks are refused with the reason and create nothing."""
from __future__ import annotations

import io
import stat
import zipfile
from xml.etree import ElementTree as ET

import bagit
from sqlalchemy import func, select

from archive_service.archive.models import ArchiveItem
from archive_service.models import Blob, Document
from handover_support import file_items, setup_fonds


def _built(rt, clients, n=4):
    setup_fonds(rt)
    ids = file_items(rt, "zjj_staff", n)
    c, zh = clients("zjj_staff")
    _, lh = clients("zjj_leader")
    hid = c.post("/api/v1/handovers", headers=zh, json={"name": "许可档案移交", "description": "建设工程规划许可",
                                                        "to_department": "SPJ", "items": ids}).get_json()["id"]
    assert c.get(f"/api/v1/handovers/{hid}/package", headers=zh).status_code == 409  # a draft
    for who, action in ((zh, "submit"), (lh, "sign")):
        assert c.post(f"/api/v1/handovers/{hid}/actions", headers=who,
                      json={"action": action, "reason": "同意"}).status_code == 200
    return c, zh, hid, ids


def _counts(rt):
    with rt.factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (ArchiveItem, Document, Blob))


def _rezip(data: bytes, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = change(info.filename, src.read(info))
            if body is not None:
                dst.writestr(info, body)
    return out.getvalue()


def _import(c, headers, data: bytes):
    return c.post("/api/v1/handovers/import", headers=headers,
                  data={"file": (io.BytesIO(data), "package.zip")}, content_type="multipart/form-data")


def test_bag_round_trip_and_tampering(rt, clients, county, tmp_path):
    c, zh, hid, ids = _built(rt, clients)
    resp = c.get(f"/api/v1/handovers/{hid}/package", headers=zh)
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    data = resp.data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(tmp_path / "out")
        names = z.namelist()
    (root,) = list((tmp_path / "out").iterdir())
    bag = bagit.Bag(str(root))
    bag.validate()  # any BagIt tool accepts it
    assert bag.info["External-Identifier"] == str(hid)
    assert bag.info["Source-Organization"] == "县住房和城乡建设局"
    assert bag.info["Payload-Oxum"].endswith(f".{len(bag.payload_entries())}")
    assert (root / "manifest-sm3.txt").is_file() and (root / "tagmanifest-sha256.txt").is_file()
    with rt.factory() as s:
        codes = [s.get(ArchiveItem, i).archival_code for i in ids]
    assert all(any(n.startswith(f"{root.name}/data/{code}/") for n in names) for code in codes)
    xml = ET.parse(root / "metadata" / "items.xml").getroot()
    assert [el.findtext("档号") for el in xml.findall("item")] == codes
    assert all(el.findtext("题名") and el.findtext("保管期限") == "D30" for el in xml.findall("item"))

    _, ah = clients("archivist")
    before = _counts(rt)
    target = next(n for n in names if "/data/" in n and n.endswith(".pdf"))
    flipped = _rezip(data, lambda n, b: b[:100] + bytes([b[100] ^ 1]) + b[101:] if n == target else b)
    refused = _import(c, ah, flipped)
    assert refused.status_code == 422, refused.get_json()
    message = refused.get_json()["error"]["message"]
    assert target.split("/", 1)[1] in message and "sha256" in message
    assert _counts(rt) == before  # nothing created

    dropped = _rezip(data, lambda n, b: None if n == target else b)
    assert _import(c, ah, dropped).status_code == 422
    assert _counts(rt) == before

    accepted = _import(c, ah, data)
    assert accepted.status_code == 201, accepted.get_json()
    body = accepted.get_json()
    assert body["state"] == "received" and len(body["items"]) == len(ids)
    assert [i["title"] for i in body["items"]] == [el.findtext("题名") for el in xml.findall("item")]
    report = c.get(f"/api/v1/handovers/{body['id']}/checks", headers=ah).get_json()
    assert report["passed"] is True, report


def _evil_zip(name: str, symlink: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("bag/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd" if symlink else "x")
    return out.getvalue()


def test_unsafe_packages_are_refused(rt, clients, county):
    setup_fonds(rt)
    c, ah = clients("archivist")
    before = _counts(rt)
    for name, symlink, why in (("bag/../../evil.txt", False, "上级目录"), ("/etc/cron.d/x", False, "绝对路径"),
                               ("bag/data/link", True, "符号链接")):
        resp = _import(c, ah, _evil_zip(name, symlink))
        assert resp.status_code == 422 and why in resp.get_json()["error"]["message"], resp.get_json()
        assert name in resp.get_json()["error"]["message"]
    assert _import(c, ah, b"not a zip").status_code == 422
    _, zh = clients("zjj_leader")
    assert _import(c, zh, _evil_zip("bag/data/x")).status_code == 403
    assert _counts(rt) == before


def test_imported_items_keep_their_code_when_the_receiving_fonds_can(rt, clients, county):
    """The rule (handover.service.keepable_code): a package's 档号 is kept when it is well-formed, names
    the receiving 全宗号 and one of its 机构代码, agrees with 保管期限 and is free; otherwise a new 档号 is
    allocated and the original goes into 备注."""
    import hashlib

    from archive_service.archive.models import Fonds
    from archive_service.models import User
    from archive_service.permissions import issuing_organisation

    c, zh, hid, ids = _built(rt, clients, n=3)
    data = c.get(f"/api/v1/handovers/{hid}/package", headers=zh).data
    with rt.factory() as s:
        receiver = issuing_organisation(s.scalar(select(User).where(User.username == "archivist")).department)
        fonds = s.scalar(select(Fonds).where(Fonds.department_id == receiver.id))
        unit = fonds.units[0].code
        sender_codes = [s.get(ArchiveItem, i).archival_code for i in ids]
    free = f"{fonds.code}-WS·2025-D30-{unit}-0901"
    wrong_term = f"{fonds.code}-WS·2025-D10-{unit}-0902"  # 保管期限 D10 while the item says D30
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml_name = next(n for n in z.namelist() if n.endswith("metadata/items.xml"))
    tree = ET.fromstring(zipfile.ZipFile(io.BytesIO(data)).read(xml_name))
    codes = tree.findall("item/档号")
    codes[0].text, codes[1].text = free, wrong_term  # the third keeps the sender's (another fonds)
    new_xml = ET.tostring(tree, encoding="utf-8", xml_declaration=True)

    def change(name: str, body: bytes) -> bytes:
        if name == xml_name:
            return new_xml
        if name.endswith("tagmanifest-sha256.txt"):
            return b"".join((hashlib.sha256(new_xml).hexdigest().encode() + b"  metadata/items.xml\n")
                            if line.endswith(b"metadata/items.xml") else line + b"\n"
                            for line in body.splitlines() if line)
        return body

    _, ah = clients("archivist")
    accepted = _import(c, ah, _rezip(data, change))
    assert accepted.status_code == 201, accepted.get_json()
    titles = [el.findtext("题名") for el in tree.findall("item")]
    with rt.factory() as s:
        by_title = {it.title: it for it in (s.get(ArchiveItem, i["id"]) for i in accepted.get_json()["items"])}
        got = [by_title[t] for t in titles]
        assert got[0].archival_code == free and "沿用原档号" in got[0].remarks
        for item, original in ((got[1], wrong_term), (got[2], sender_codes[2])):
            assert item.archival_code not in (free, original) and item.fonds == fonds.code
            assert f"原档号 {original}" in item.remarks
    # the same package again: the kept code is no longer free, so a new one is allocated
    again = _import(c, ah, _rezip(data, change))
    assert again.status_code == 201, again.get_json()
    with rt.factory() as s:
        first = next(it for it in (s.get(ArchiveItem, i["id"]) for i in again.get_json()["items"])
                     if it.title == titles[0])
        assert first.archival_code != free and f"原档号 {free}" in first.remarks
