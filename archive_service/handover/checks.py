"""Receipt checks (接收检验) of one manifest revision: the archive's four-property checks on every item
plus the manifest level — item count and total bytes, every line's parts and digests as listed, no
item missing or extra, 件号 continuous within each (全宗, 年度, 保管期限, 机构) of the manifest, mandatory
metadata present. The report names every failing item with the check and the reason.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..archive.checks import PROPERTIES, prefetch, run_checks
from ..archive.models import ArchiveItem
from ..storage.base import ObjectStore
from .models import HandoverLine, HandoverRevision

MANIFEST_CHECKS = {
    "item_count": ("integrity", "件数与清单一致"),
    "total_bytes": ("integrity", "数据量与清单一致"),
    "items_present": ("integrity", "清单所列档案齐全、无多余"),
    "lines_match_items": ("authenticity", "清单所列文件及摘要值与档案一致"),
    "item_numbers_continuous": ("integrity", "清单内件号连续"),
    "line_metadata": ("integrity", "清单必填著录项齐全"),
}
LINE_MANDATORY = {"档号": "archival_code", "题名": "title", "责任者": "responsible", "日期": "doc_date",
                  "保管期限": "retention"}


@dataclass
class ItemFinding:
    item_id: int
    seq: int
    archival_code: str
    checks: list[dict] = field(default_factory=list)  # {property, name, label, why}


def _line_problems(line: HandoverLine, item: ArchiveItem | None, sender_org_id: int) -> list[dict]:
    out = []

    def add(name: str, why: str) -> None:
        prop, label = MANIFEST_CHECKS[name]
        out.append({"property": prop, "name": name, "label": label, "why": why})

    if item is None:
        add("items_present", "档案已不存在")
        return out
    if item.department_id != sender_org_id:
        add("items_present", "档案已不由移交单位保管")
    listed = {p["part_id"]: p for p in json.loads(line.parts)}
    current = {p.id: p for p in item.parts}
    for pid, p in listed.items():
        cur = current.get(pid)
        if cur is None:
            add("lines_match_items", f"{p['filename']}：清单所列文件已不在档案中")
        elif (cur.sha256, cur.sm3, cur.size) != (p["sha256"], p["sm3"], p["size"]):
            add("lines_match_items", f"{p['filename']}：摘要值或大小与清单不符")
    for pid, cur in current.items():
        if pid not in listed:
            add("lines_match_items", f"{cur.filename}：档案中有清单未列的文件")
    missing = [k for k, attr in LINE_MANDATORY.items() if getattr(line, attr) in (None, "")
               or (attr == "title" and not line.title.strip("[] 　"))]
    if missing:
        add("line_metadata", "清单缺少" + "、".join(missing))
    return out


def receipt_checks(session: Session, store: ObjectStore, revision: HandoverRevision, sender_org_id: int,
                   verifier=None) -> dict:
    lines = list(revision.lines)
    manifest: list[dict] = []
    findings: dict[int, ItemFinding] = {}

    def finding(line: HandoverLine) -> ItemFinding:
        if line.item_id not in findings:
            findings[line.item_id] = ItemFinding(line.item_id, line.seq, line.archival_code)
        return findings[line.item_id]

    def manifest_result(name: str, ok: bool, why: str) -> None:
        prop, label = MANIFEST_CHECKS[name]
        manifest.append({"property": prop, "name": name, "label": label, "result": "pass" if ok else "fail",
                         "why": why})

    manifest_result("item_count", len(lines) == revision.item_count,
                    f"清单列 {revision.item_count} 件，实有 {len(lines)} 行")
    total = sum(line.size for line in lines)
    manifest_result("total_bytes", total == revision.total_bytes,
                    f"清单数据量 {revision.total_bytes} 字节，各行合计 {total} 字节")

    # every item with its parts, and what the per-item checks look up, in a few queries for the whole manifest
    items: dict[int, ArchiveItem] = {}
    wanted = [ln.item_id for ln in lines]
    for start in range(0, len(wanted), 500):
        items.update((i.id, i) for i in session.scalars(
            select(ArchiveItem).options(selectinload(ArchiveItem.parts))
            .where(ArchiveItem.id.in_(wanted[start:start + 500]))))
    facts = prefetch(session, list(items.values()))
    for line in lines:
        item = items.get(line.item_id)
        problems = _line_problems(line, item, sender_org_id)
        if problems:
            finding(line).checks.extend(problems)
        if item is None:
            continue
        report = run_checks(session, store, item, verifier, facts=facts)
        for c in report.failures:
            if c.name == "item_numbers_gapless":
                continue  # the archive-wide gap check: the manifest's own continuity is checked below
            finding(line).checks.append({"property": c.property, "name": c.name, "label": c.label,
                                         "why": c.why})

    # 件号 continuous within each (全宗, 年度, 保管期限, 机构) group of the manifest
    groups: dict[tuple, list[tuple[int, HandoverLine]]] = defaultdict(list)
    for line in lines:
        item = items.get(line.item_id)
        if item is not None:
            groups[(item.fonds, item.year, item.retention, item.unit)].append((item.item_number, line))
    gaps = 0
    for key, members in groups.items():
        members.sort(key=lambda m: m[0])
        for (prev, _), (num, line) in pairwise(members):
            if num != prev + 1:
                gaps += 1
                missing = f"{prev + 1:04d}" + (f"–{num - 1:04d}" if num - 1 > prev + 1 else "")
                prop, label = MANIFEST_CHECKS["item_numbers_continuous"]
                finding(line).checks.append({
                    "property": prop, "name": "item_numbers_continuous", "label": label,
                    "why": f"{'-'.join(map(str, key))} 件号 {missing} 不在清单中（本件 {num:04d}，前一件 {prev:04d}）"})
    manifest_result("item_numbers_continuous", gaps == 0,
                    "各组件号连续" if not gaps else f"{gaps} 处缺号")
    failed_items = sorted(findings.values(), key=lambda f: f.seq)
    absent = any(chk["name"] == "items_present" for f in failed_items for chk in f.checks)
    manifest_result("items_present", not absent, "清单所列档案齐全")
    props = {p: "合格" for p in PROPERTIES}
    for f in failed_items:
        for chk in f.checks:
            props[chk["property"]] = "不合格"
    for m in manifest:
        if m["result"] == "fail":
            props[m["property"]] = "不合格"
    passed = not failed_items and all(m["result"] == "pass" for m in manifest)
    return {"passed": passed, "checked": len(lines), "failed_items": len(failed_items),
            "properties": {PROPERTIES[p]: v for p, v in props.items()},
            "manifest": manifest, "items": [asdict(f) for f in failed_items]}


def blocking_failures(report: dict, exceptions: list[dict]) -> list[str]:
    """The failures an acceptance would leave unexcused (empty: acceptance may go ahead)."""
    excused = {(int(e["item_id"]), e["check"]) for e in exceptions}
    out = [f"清单：{m['label']}（{m['why']}）" for m in report.get("manifest", [])
           if m["result"] == "fail" and m["name"] not in {"item_numbers_continuous", "items_present"}]
    for f in report.get("items", []):
        for c in f["checks"]:
            if (f["item_id"], c["name"]) not in excused:
                out.append(f"第 {f['seq']} 行 {f['archival_code']}：{c['label']}（{c['why']}）")
    return out
