"""The 交接文据 (电子档案移交与接收登记表): read back with every field, signed by the sender's department key
when its signer signs and by the receiver's at acceptance as an incremental update of that same PDF (pyHanko
validates both, the sender's still intact), filed as an archive item of each side; DOCX with the same fields."""
from __future__ import annotations

import hashlib
import io

import docx
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PageObject, PdfReader
from pypdf.generic import NameObject

from archive_service.archive.models import ArchiveItem
from archive_service.handover.models import Handover
from archive_service.handover.record import RECEIVER_FIELD
from archive_service.handover.service import record_name
from correspondence.pki import key_source
from correspondence.signing import verify_pdf
from handover_support import file_items, setup_fonds


def receiver_box(pdf: bytes) -> str:
    """The text of the receiver's signature field's appearance ("" while the field is empty)."""
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            widget = annot.get_object()
            if widget.get("/T") == RECEIVER_FIELD or widget.get("/Parent", {}).get("/T") == RECEIVER_FIELD:
                if "/V" not in widget:
                    return ""
                ap = widget["/AP"]["/N"].get_object()
                box = PageObject(pdf=reader)  # the appearance stream drawn as a page of its own
                box[NameObject("/Resources")] = ap["/Resources"]
                box[NameObject("/MediaBox")] = ap["/BBox"]
                box[NameObject("/Contents")] = widget["/AP"]["/N"]
                return box.extract_text()
    raise AssertionError("no receiver signature field")


def test_record_fields_signatures_and_filing(rt, clients, county):
    setup_fonds(rt)
    ids = file_items(rt, "zjj_staff", 3)
    c, zh = clients("zjj_staff")
    _, lh = clients("zjj_leader")
    _, ah = clients("archivist")
    _, sh = clients("signer")
    hid = c.post("/api/v1/handovers", headers=zh, json={"name": "建设工程许可档案移交", "description": "划转<事项>档案",
                                                        "to_department": "SPJ", "items": ids}).get_json()["id"]
    preview = c.get(f"/api/v1/handovers/{hid}/record.pdf", headers=zh)
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF") and b"/ByteRange" not in preview.data
    trust = key_source(rt.settings).trust_roots()
    vc = ValidationContext(trust_roots=[asn1_x509.Certificate.load(c_.public_bytes(Encoding.DER)) for c_ in trust])
    for who, action in ((zh, "submit"), (lh, "sign")):
        r = c.post(f"/api/v1/handovers/{hid}/actions", headers=who, json={"action": action, "reason": "同意"})
        assert r.status_code == 200, r.get_json()
    # the sender's signer signed: the record is rendered and signed by the sender's department, and stored
    with rt.factory() as s:
        rev = s.get(Handover, hid).current
        sent = rt.documents(s).store.read_record(record_name(rev.sender_record_sha256))
    assert hashlib.sha256(sent).hexdigest() == rev.sender_record_sha256
    for headers in (zh, ah):  # both sides download that signed copy until acceptance
        assert c.get(f"/api/v1/handovers/{hid}/record.pdf", headers=headers).data == sent
    sigs = PdfFileReader(io.BytesIO(sent)).embedded_signatures
    assert len(sigs) == 1
    status = validate_pdf_signature(sigs[0], vc)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.signing_cert.subject.native["common_name"] == "县住房和城乡建设局"
    sent_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(sent)).pages)
    assert "住房经办人" in sent_text and "住房负责人" in sent_text and "局长李明" not in sent_text
    assert receiver_box(sent) == ""  # the receiver's box: reserved, empty

    for who, action in ((ah, "receive"), (ah, "accept"), (sh, "sign")):
        r = c.post(f"/api/v1/handovers/{hid}/actions", headers=who, json={"action": action, "reason": "同意"})
        assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "accepted" and all(body["record_items"].values())

    for headers, holder in ((ah, "archivist"), (zh, "zjj_staff")):
        pdf = c.get(f"/api/v1/handovers/{hid}/record.pdf", headers=headers)
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.data.startswith(sent)  # the sender's revision, untouched, then the receiver's update
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
        for needle in ("电子档案移交与接收登记表", "交接工作名称", "建设工程许可档案移交", "内容描述", "划转<事项>档案",
                       "移交电子档案数量", "3 件", "移交数据量", "GB", "载体起止顺序号", "载体类型", "在线", "检验内容",
                       "填表人", "审核人", "单位（印章）", "移交单位", "接收单位",
                       "县住房和城乡建设局", "住房经办人", "住房负责人", "摘要算法：SHA-256"):
            assert needle in text, needle
        stamp = receiver_box(pdf.data)  # the receiver's side: its signature's visible appearance
        for needle in ("单位（印章）：县行政审批局", "填表人：档案员王芳", "审核人：局长李明", "日期：",
                       "准确性：合格", "完整性：合格", "可用性：合格", "安全性：合格"):
            assert needle in stamp, (needle, stamp)
        sigs = PdfFileReader(io.BytesIO(pdf.data)).embedded_signatures
        assert len(sigs) == 2
        names, levels = [], []
        for sig in sigs:  # pyHanko's own validation, signature by signature
            status = validate_pdf_signature(sig, vc)
            assert status.intact and status.valid and status.trusted, status.pretty_print_details()
            assert status.docmdp_ok is not False and status.bottom_line, status.pretty_print_details()
            names.append(status.signing_cert.subject.native["common_name"])
            levels.append(status.modification_level)
        assert names == ["县住房和城乡建设局", "县行政审批局"]
        # the sender's signature covers exactly its own revision; what came after is only form filling
        first = sigs[0].byte_range
        assert first[2] + first[3] == len(sent)
        assert levels == [ModificationLevel.FORM_FILLING, ModificationLevel.NONE]
        report = verify_pdf(pdf.data, trust)
        assert report.ok and [r.signer_name for r in report.signatures] == ["住房负责人", "局长李明"]
        d = docx.Document(io.BytesIO(c.get(f"/api/v1/handovers/{hid}/record.docx", headers=headers).data))
        cells = {cell.text for t in d.tables for row in t.rows for cell in row.cells}
        assert {"交接工作名称", "建设工程许可档案移交", "载体类型", "在线", "填表人", "审核人"} <= cells
        assert holder

    with rt.factory() as s:
        sender_item = s.get(ArchiveItem, body["record_items"]["sender"])
        receiver_item = s.get(ArchiveItem, body["record_items"]["receiver"])
        assert sender_item.department_id == county["zjj_staff"].department_id and sender_item.retention == "Y"
        assert receiver_item.department_id == county["archivist"].department_id
        assert {p.role for p in receiver_item.parts} >= {"main", "docx"}
        assert receiver_item.last_check_passed is True
