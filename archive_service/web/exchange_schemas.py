"""Request and response models of the 审管互动 API (/api/v1/matters, /pushes, /revocations)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from correspondence.exchange.models import DECISIONS, FEEDBACK_KINDS, NOTICE_KINDS, PUSH_STATES, REVOCATION_ACTIONS

from .schemas import Day, Id, Input, Query

Ref = Annotated[str, Field(max_length=100, min_length=1, description="部门代码或名称")]


class MatterInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "code": "SC-001", "name": "食品经营许可", "section": "SCZR", "regulators": ["SCJG"],
        "transferred_from": "县市场监督管理局", "transferred_on": "2020-06-01"}]})

    code: Annotated[str, Field(max_length=40, min_length=1, description="事项编码（已有编码则更新）")]
    name: Annotated[str, Field(max_length=200, min_length=1)]
    section: Ref = Field(description="审批股室（部门代码或名称）")
    regulators: list[Ref] = Field(default_factory=list, max_length=20, description="监管部门")
    transferred_from: Annotated[str, Field(max_length=100, description="划转前的部门")] = ""
    transferred_on: Day | None = Field(default=None, description="划转日期（第三十一条）")


class Matter(BaseModel):
    id: int
    code: str
    name: str
    section: str
    regulators: list[str]
    transferred_from: str
    transferred_on: str | None


class MatterList(BaseModel):
    items: list[Matter]


class PushInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "matter_id": 1, "applicant": "石城县百味餐饮管理有限公司", "credit_code": "91360735MA3ABCDE1X",
        "licence_no": "JY13607350012345", "decision": "grant", "decided_on": "2026-11-30", "document_ids": [],
        "regulators": None}]})

    matter_id: Id
    applicant: Annotated[str, Field(max_length=200, min_length=1, description="申请人")]
    credit_code: Annotated[str, Field(max_length=18, min_length=18, description="统一社会信用代码")]
    licence_no: Annotated[str, Field(max_length=100, description="许可证编号")] = ""
    decision: Literal[tuple(DECISIONS)] = Field(  # type: ignore[valid-type]
        description="审批决定：" + "；".join(f"{k} {v}" for k, v in DECISIONS.items()))
    decided_on: Day
    document_ids: list[Id] = Field(default_factory=list, max_length=50, description="附件（核心文档编号）")
    regulators: list[Ref] | None = Field(default=None, max_length=20,
                                         description="推送的监管部门；省略时按事项清单")


class FeedbackOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    title: str
    decided_on: str
    summary: str
    created_at: str
    created_by: str
    document_ids: list[int]


class FeedbackInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "kind": "penalty", "title": "石市监罚〔2026〕12号 行政处罚决定书", "decided_on": "2026-11-30",
        "summary": "警告并罚款人民币五千元。", "document_ids": []}]})

    kind: Literal[tuple(FEEDBACK_KINDS)] = Field(  # type: ignore[valid-type]
        description="反馈类别：" + "；".join(f"{k} {v}" for k, v in FEEDBACK_KINDS.items()))
    title: Annotated[str, Field(max_length=200, min_length=1, description="决定名称或文号")]
    decided_on: Day = Field(description="作出日期")
    summary: Annotated[str, Field(max_length=20000, description="主要内容")] = ""
    document_ids: list[Id] = Field(default_factory=list, max_length=50, description="附件（核心文档编号）")


class InfoOut(BaseModel):
    id: int
    question: str
    asked_by: str
    asked_at: str
    due_on: str = Field(description="答复期限：请求日 + 5 个工作日")
    answer: str
    answered_by: str | None
    answered_at: str | None
    document_ids: list[int]


class InfoAsk(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "请提供该许可的现场核查记录。"}]})

    question: Annotated[str, Field(max_length=5000, min_length=1, description="需要提供的审批信息")]


class InfoTarget(BaseModel):
    """The push page's answer form: the information request answered."""
    info_id: Id


class InfoAnswer(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"answer": "现场核查记录见附件。", "document_ids": []}]})

    answer: Annotated[str, Field(max_length=20000, min_length=1, description="答复内容")]
    document_ids: list[Id] = Field(default_factory=list, max_length=50, description="附件（核心文档编号）")


class LetterDrafted(BaseModel):
    letter_id: int
    title: str
    template: str


class PushOut(BaseModel):
    id: int
    regulator: str
    due_on: str = Field(description="认领期限：推送日 + 5 个工作日")
    state: Literal[tuple(PUSH_STATES)]  # type: ignore[valid-type]
    state_label: str
    matter: str
    applicant: str
    credit_code: str
    licence_no: str
    decision: str
    decided_on: str
    pushed_at: str
    claimed_at: str | None
    claimed_by: str | None
    note: str
    document_ids: list[int]
    feedback: list[FeedbackOut] = Field(description="监管部门的反馈（推送的审批局与该监管部门可见）")
    liaison: str | None = Field(description="优先送达的监管部门联络员（用户名；未备案则为空）")
    info_requests: list[InfoOut] = Field(description="监管部门的审批信息请求及审批局的答复")


class PushCreated(BaseModel):
    items: list[PushOut]


class PushQuery(Query):
    state: Literal[tuple(PUSH_STATES)] | None = Field(  # type: ignore[valid-type]
        default=None, description="unclaimed 待认领、claimed 已认领、auto_claimed 系统自动认领")


class PushList(BaseModel):
    items: list[PushOut]


class ClaimInput(Input):
    note: Annotated[str, Field(max_length=2000, description="认领意见")] = ""


class RevocationInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "matter_id": 1, "licensee": "石城县百味餐饮管理有限公司", "discovered_on": "2026-11-30", "action": "revoke",
        "facts": "经现场检查，该单位使用超过保质期的食品原料……", "document_ids": []}]})

    matter_id: Id
    licensee: Annotated[str, Field(max_length=200, min_length=1, description="被许可人")]
    discovered_on: Day = Field(description="发现违法行为的日期")
    action: Literal[tuple(REVOCATION_ACTIONS)] = Field(  # type: ignore[valid-type]
        description="建议事项：" + "；".join(f"{k} {v}" for k, v in REVOCATION_ACTIONS.items()))
    facts: Annotated[str, Field(max_length=20000, min_length=1, description="违法事实")]
    document_ids: list[Id] = Field(default_factory=list, max_length=50, description="证据材料（核心文档编号）")


class RevocationOut(BaseModel):
    id: int
    matter: str
    licensee: str
    regulator: str
    action: str
    action_label: str
    discovered_on: str
    pushed_on: str
    due_on: str = Field(description="推送期限：发现日 + 2 个工作日")
    late: bool
    late_days: int
    state: str
    state_label: str
    outcome: str = Field(description="done 已按建议处理、not_done 不予处理（登记后）")
    result: str
    flow_state: str | None = Field(description="处理结果的审签环节（drafting 拟稿、reviewing 核稿、signing 签发 …）")
    version_sha256: str | None = Field(description="审签绑定的处理结果摘要；操作时回传")
    liaison: str | None = Field(description="优先送达的审批股室联络员（用户名；未备案则为空）")
    request_letter_id: int | None = Field(description="审批变更撤销建议函（公文）")
    result_letter_id: int | None = Field(description="处理结果告知函（公文）")


class RevocationAction(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "verify", "note": "已现场核实"},
        {"action": "record", "outcome": "done", "result": "已依法吊销其食品经营许可证。"},
        {"action": "sign", "version_sha256": "…", "note": "同意"}]})

    action: Literal["verify", "record", "submit", "pass", "return", "sign"] = Field(
        description="verify 核实；record 登记处理结果（outcome、result）；submit/pass/return/sign 审签（核心审签链）")
    note: Annotated[str, Field(max_length=2000, description="核实情况或审签意见（退回、签发时必填）")] = ""
    outcome: Literal["done", "not_done", ""] = Field(default="",
                                                     description="record 时：done 已处理、not_done 不予处理")
    result: Annotated[str, Field(max_length=20000, description="record 时：处理情况或不予处理的理由")] = ""
    version_sha256: Annotated[str, Field(max_length=64, description="看到的处理结果摘要（省略则为当前）")] = ""


class RevocationList(BaseModel):
    items: list[RevocationOut]


class NoticeInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "kind": "policy", "title": "《食品经营许可和备案管理办法》修订", "effective_on": "2026-12-01",
        "summary": "食品经营许可证有效期由5年调整为……", "matter_ids": [1], "document_ids": [],
        "draft_letter": True}]})

    kind: Literal[tuple(NOTICE_KINDS)] = Field(  # type: ignore[valid-type]
        default="policy", description="类别：" + "；".join(f"{k} {v}" for k, v in NOTICE_KINDS.items()))
    title: Annotated[str, Field(max_length=200, min_length=1, description="法律法规、政策或会议、培训的名称")]
    effective_on: Day = Field(description="施行日期（会议、培训为举办日期）")
    summary: Annotated[str, Field(max_length=20000, min_length=1, description="主要调整内容")]
    matter_ids: list[Id] = Field(default_factory=list, max_length=200,
                                 description="涉及的审批事项（事项清单编号）；省略时告知全部审批股室")
    document_ids: list[Id] = Field(default_factory=list, max_length=50, description="附件（核心文档编号）")
    draft_letter: bool = Field(default=True, description="同时起草政策变动告知函（需拟稿人角色），走公文审签")


class NoticeRecipientOut(BaseModel):
    section: str
    acked_at: str | None
    acked_by: str | None


class NoticeOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    title: str
    effective_on: str
    summary: str
    regulator: str
    matters: list[str]
    letter_id: int | None = Field(description="政策变动告知函（公文收发中的草稿，走审签、印发）")
    created_at: str
    recipients: list[NoticeRecipientOut]
    document_ids: list[int]


class NoticeList(BaseModel):
    items: list[NoticeOut]


class DashboardQuery(Query):
    year: int | None = Field(default=None, ge=2000, le=2100, description="年份（省略为今年）")


class DashboardPushRow(BaseModel):
    department: str
    month: str
    total: int
    on_time: int = Field(description="按期人工认领")
    late: int = Field(description="逾期后人工认领")
    auto: int = Field(description="系统自动认领")
    unclaimed: int
    overdue: int = Field(description="逾期仍未认领")


class DashboardRevocationRow(BaseModel):
    department: str
    month: str
    total: int
    late: int = Field(description="逾期推送")
    handled: int
    open: int


class DashboardInfoRow(BaseModel):
    department: str
    month: str
    total: int
    answered: int
    overdue: int


class DashboardLetterRow(BaseModel):
    department: str = Field(description="收文部门")
    month: str = Field(description="办理期限所在月份")
    total: int = Field(description="有办理期限的来函")
    on_time: int = Field(description="期限内复函")
    late: int = Field(description="逾期复函")
    closed: int = Field(description="办结未复函（含退回）")
    open: int
    overdue: int = Field(description="逾期仍未办结")


class DashboardMinutesRow(BaseModel):
    department: str = Field(description="召集单位")
    month: str = Field(description="印发期限所在月份")
    total: int = Field(description="已签发、应印发的纪要")
    on_time: int = Field(description="签发后 3 个工作日内印发")
    late: int
    pending: int
    overdue: int = Field(description="逾期仍未印发")


class DashboardOverdue(BaseModel):
    kind: str = Field(description="来函办理、撤销建议推送、会议纪要印发或审批推送认领")
    department: str = Field(description="承办部门（收文部门、监管部门或召集单位）")
    title: str
    due_on: str = Field(description="期限")
    days: int = Field(description="逾期工作日数（撤销建议为逾期推送的工作日数）")


class DashboardOut(BaseModel):
    year: int
    pushes: list[DashboardPushRow]
    revocations: list[DashboardRevocationRow]
    info_requests: list[DashboardInfoRow]
    letters: list[DashboardLetterRow]
    minutes: list[DashboardMinutesRow]
    totals: dict[str, dict[str, int]]
    rates: dict[str, str] = Field(description="全年按期率（百分比，无可计数据为 —）")
    overdue: list[DashboardOverdue] = Field(description="逾期事项，期限最早的在前（每类最多 50 件）")


class NotificationOut(BaseModel):
    id: int
    message: str
    created_at: str
    read_at: str | None
    push_id: int | None
    revocation_id: int | None
    notice_id: int | None


class NotificationList(BaseModel):
    unread: int
    items: list[NotificationOut]


class MailboxInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"address": "scjg@shicheng.gov.cn"}, {"address": "", "department": "SCJG"}]})

    address: Annotated[str, Field(max_length=254, description="邮箱地址；空为取消")]
    department: Annotated[str, Field(max_length=100, description="部门代码或名称（系统管理员；省略为本部门）")] = ""


class NotificationsForm(BaseModel):
    """The notifications page's forms: mark every notification read, or set the department's mailbox."""
    what: Literal["read", "mailbox"] = "read"
    address: Annotated[str, Field(max_length=254)] = ""


class MailboxOut(BaseModel):
    department: str
    address: str
