"""Demo data of the exchange: the county's matter register (事项清单) and a few pushes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.models import Department, User

from .models import Matter
from .service import ExchangeService

# (code, name, approving section, supervising regulators, transferred from, transferred on)
MATTERS = [
    ("SC-001", "食品经营许可", "SCZR", ["SCJG"], "县市场监督管理局", "2020-06-01"),
    ("SC-002", "食品生产许可（部分类别）", "SCZR", ["SCJG"], "县市场监督管理局", "2020-06-01"),
    ("SC-003", "药品零售企业经营许可", "SCZR", ["SCJG"], "县市场监督管理局", "2020-06-01"),
    ("SC-004", "第二类医疗器械经营备案", "SCZR", ["SCJG"], "县市场监督管理局", "2020-06-01"),
    ("SC-005", "小餐饮经营许可", "SCZR", ["SCJG"], "", ""),
    ("SC-006", "公共场所卫生许可", "SCZR", ["WJW"], "县卫生健康委员会", "2020-06-01"),
    ("SC-007", "特种设备使用登记", "SCZR", ["SCJG"], "县市场监督管理局", "2021-01-01"),
    ("TZ-001", "建筑工程施工许可证核发", "TZJS", ["ZJJ"], "县住房和城乡建设局", "2020-06-01"),
    ("TZ-002", "建设工程规划许可证核发", "TZJS", ["ZRZY", "ZJJ"], "县自然资源局", "2020-06-01"),
    ("TZ-003", "建设用地规划许可证核发", "TZJS", ["ZRZY"], "县自然资源局", "2020-06-01"),
    ("TZ-004", "乡村建设规划许可证核发", "TZJS", ["ZRZY"], "县自然资源局", "2021-03-01"),
    ("TZ-005", "建设项目环境影响报告表审批", "TZJS", ["STHJ"], "县生态环境局", "2020-06-01"),
    ("TZ-006", "排污许可（简化管理）", "TZJS", ["STHJ"], "县生态环境局", "2022-01-01"),
    ("TZ-007", "商品房预售许可", "TZJS", ["ZJJ"], "县住房和城乡建设局", "2020-06-01"),
    ("TZ-008", "城镇污水排入排水管网许可", "TZJS", ["ZJJ", "STHJ"], "县住房和城乡建设局", "2021-01-01"),
    ("TZ-009", "临时用地审批", "TZJS", ["ZRZY"], "", ""),
    ("SH-001", "医疗机构执业登记", "SHSW", ["WJW"], "县卫生健康委员会", "2020-06-01"),
    ("SH-002", "放射诊疗许可", "SHSW", ["WJW", "STHJ"], "县卫生健康委员会", "2020-06-01"),
    ("SH-003", "母婴保健技术服务执业许可", "SHSW", ["WJW"], "县卫生健康委员会", "2021-01-01"),
    ("SH-004", "娱乐场所经营许可", "SHSW", ["WGLY"], "县文化广电新闻出版旅游局", "2020-06-01"),
    ("SH-005", "互联网上网服务营业场所经营许可", "SHSW", ["WGLY"], "县文化广电新闻出版旅游局", "2020-06-01"),
    ("SH-006", "营业性演出审批", "SHSW", ["WGLY"], "县文化广电新闻出版旅游局", "2021-01-01"),
    ("SH-007", "出版物零售业务经营许可", "SHSW", ["WGLY"], "", ""),
    ("SH-008", "高危险性体育项目经营许可", "SHSW", ["WGLY", "SCJG"], "县文化广电新闻出版旅游局", "2022-01-01"),
]

PUSHES = [  # (matter code, applicant, credit code, licence no, decision, days ago, claimed by)
    ("SC-001", "石城县百味餐饮管理有限公司", "91360735MA3ABCDE1X", "JY13607350012345", "grant", 2, None),
    ("SC-006", "石城县悦庭酒店有限公司", "91360735MA3FGHJK2Y", "石卫公字〔2026〕第018号", "grant", 3, "wjw_liaison"),
    ("TZ-001", "江西石城建工集团有限公司", "91360735MA3LMNPQ3W", "360735202611260101", "grant", 1, None),
]


def load_exchange_demo(session: Session, runtime) -> bool:
    if session.scalar(select(Matter.id).limit(1)) is not None:
        return False
    if session.scalar(select(Department.id).where(Department.code == "SCZR")) is None:
        return False  # not the demo county
    from datetime import date

    admin = session.scalars(select(User).where(User.username == "admin")).one()
    svc = ExchangeService(session, runtime.clock)
    by_code = {}
    for code, name, section, regs, src, on in MATTERS:
        by_code[code] = svc.save_matter(admin, code=code, name=name, section=section, regulators=regs,
                                        transferred_from=src, transferred_on=date.fromisoformat(on) if on else None)
    drafter = session.scalars(select(User).where(User.username == "drafter")).one()
    today = runtime.clock.today()
    for code, applicant, credit, licence, decision, ago, claimer in PUSHES:
        pushes = svc.push(drafter, matter_id=by_code[code].id, applicant=applicant, credit_code=credit,
                          licence_no=licence, decision=decision, decided_on=today - timedelta(days=ago))
        if claimer:
            user = session.scalars(select(User).where(User.username == claimer)).one()
            svc.claim(user, pushes[0].id, note="已认领，纳入日常监管")
    staff = session.scalars(select(User).where(User.username == "scjg_staff")).one()
    svc.request_revocation(staff, matter_id=by_code["SC-001"].id, licensee="石城县百味餐饮管理有限公司",
                           discovered_on=today, action="revoke",
                           facts="经现场检查，该单位使用超过保质期的食品原料加工食品，情节严重。")
    return True
