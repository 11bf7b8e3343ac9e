"""Demo county (石城县) for `init --demo`: departments, one user per role, liaisons, sample files.

Only created with --demo; a non-demo instance has no account with a known password.
"""
from __future__ import annotations

import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth import hash_password
from .clock import Clock
from .directory import Directory
from .models import Department

DEMO_PASSWORD = "demo-2026"

BUREAU = ("县行政审批局", "SPJ")
SECTIONS = [("办公室", "SPJBGS"), ("市场准入审批股", "SCZR"), ("投资建设审批股", "TZJS"), ("社会事务审批股", "SHSW")]
REGULATORS = [
    ("县市场监督管理局", "SCJG"), ("县住房和城乡建设局", "ZJJ"), ("县自然资源局", "ZRZY"),
    ("县生态环境局", "STHJ"), ("县卫生健康委员会", "WJW"), ("县文化广电新闻出版旅游局", "WGLY"),
]
OTHERS = [("县司法局", "SFJ"), ("县委编办", "WBB")]
COUNTY = "石城县"
# 全称 where it is not simply the county's name before the display name (县… → 石城县…)
FULL_NAMES = {"WBB": "中共石城县委机构编制委员会办公室"}


def official_name(name: str, code: str, parent: str = "") -> str:
    """The demo department's 全称: 石城县市场监督管理局, a section under its bureau's 全称."""
    if code in FULL_NAMES:
        return FULL_NAMES[code]
    if parent:
        return parent + name
    return COUNTY + name.removeprefix("县")
LINKS = {"SCZR": ["SCJG", "WJW"], "TZJS": ["ZJJ", "ZRZY", "STHJ"], "SHSW": ["WGLY", "WJW"]}

# (username, full name, department code, roles)
USERS = [
    ("admin", "系统管理员", "SPJBGS", ["admin"]),
    ("auditor", "安全审计员", "SPJBGS", ["auditor"]),
    ("archivist", "档案员王芳", "SPJBGS", ["archivist"]),
    ("clerk", "文书周丽", "SPJBGS", ["clerk"]),  # the bureau's 办公室: 复核, 登记, 印发, 收文
    ("signer", "局长李明", "SPJ", ["signer", "reviewer"]),
    ("drafter", "拟稿人张伟", "SCZR", ["drafter"]),
    ("reviewer", "股长刘洋", "SCZR", ["reviewer"]),
    ("liaison_sczr", "联络员陈静", "SCZR", ["liaison", "drafter"]),
    ("liaison_tzjs", "联络员杨帆", "TZJS", ["liaison", "drafter"]),
    ("liaison_shsw", "联络员赵敏", "SHSW", ["liaison", "drafter"]),
]
for _name, _code in REGULATORS:
    USERS.append((f"{_code.lower()}_staff", f"{_name[1:3]}经办人", _code, ["drafter", "archivist"]))
    USERS.append((f"{_code.lower()}_leader", f"{_name[1:3]}负责人", _code, ["reviewer", "signer"]))
    USERS.append((f"{_code.lower()}_liaison", f"{_name[1:3]}联络员", _code, ["liaison"]))
    USERS.append((f"{_code.lower()}_clerk", f"{_name[1:3]}文书", _code, ["clerk"]))  # the regulator's 办公室
USERS += [("sfj_staff", "司法局经办人", "SFJ", ["drafter"]), ("wbb_staff", "编办经办人", "WBB", ["drafter"])]

# One regulator's liaison is deliberately not yet filed, so the gap page has something to show.
UNFILED_REGULATOR = "STHJ"

SAMPLE_FILES = [
    ("drafter", "关于加强审管联动工作的通知（样例）", "审管联动通知.txt",
     "各股室：\n为落实《石城县行政审批与监管协调联动管理办法（试行）》，请各股室确定联络员并报办公室备案。\n"),
    ("scjg_staff", "市场主体监管情况汇总（样例）", "监管情况汇总.txt",
     "本月共开展“双随机、一公开”抽查 12 次，发现问题 3 项，已函告县行政审批局。\n"),
]


def load_demo(session: Session, clock: Clock, documents_factory) -> bool:
    """Create the demo county once; returns False when it is already there."""
    if session.scalar(select(Department).where(Department.code == BUREAU[1])):
        return False
    d = Directory(session, clock)
    bureau = d.add_department(BUREAU[0], BUREAU[1], "bureau", full_name=official_name(*BUREAU))
    depts = {bureau.code: bureau}
    for name, code in SECTIONS:
        depts[code] = d.add_department(name, code, "section", bureau, official_name(name, code, bureau.full_name))
    for name, code in REGULATORS:
        depts[code] = d.add_department(name, code, "regulator", full_name=official_name(name, code))
    for name, code in OTHERS:
        depts[code] = d.add_department(name, code, "other", full_name=official_name(name, code))
    for section, regs in LINKS.items():
        for reg in regs:
            d.link(depts[section], depts[reg])
    users = {}
    shared_hash = hash_password(DEMO_PASSWORD)  # one argon2 run: every demo account shares the password
    for username, full_name, code, roles in USERS:
        users[username] = d.add_user(username, full_name, depts[code], roles, password_hash=shared_hash)
    for section, regs in LINKS.items():
        for reg in regs:
            d.file_liaison(users[f"liaison_{section.lower()}"], depts[reg], phone="0797-0000000")
    for _name, code in REGULATORS:
        if code != UNFILED_REGULATOR:
            d.file_liaison(users[f"{code.lower()}_liaison"], bureau, phone="0797-1111111")
    session.flush()
    docs = documents_factory(session)
    for username, title, filename, text in SAMPLE_FILES:
        docs.upload(users[username], io.BytesIO(text.encode("utf-8")), filename, title)
    return True
