"""Request and response models of /api/v1/letters, /inbox and /agency-codes (limits in one place)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from correspondence.models import DISCLOSURES, KINDS, URGENCIES
from correspondence.numbering import NUMBER_KINDS
from correspondence.spec import SECRECY_REFUSED, Attendance

from ..classification import NON_CLASSIFIED
from ..documents import MAX_TITLE
from ..signoff import CHAIN_ACTIONS
from .limits import MAX_ID
from .schemas import AfterQuery, Day, Id, Input


def _bounded_digits(value: str) -> str:
    if value.strip().isdigit() and int(value) > MAX_ID:
        raise ValueError("部门编号超出范围")
    return value


#: A department: its id, code or name (a string of digits is an id too).
DeptRef = Id | Annotated[str, Field(max_length=100, min_length=1), AfterValidator(_bounded_digits)]
Departments = list[DeptRef]
MAX_DEPARTMENTS = 100
MAX_PARAGRAPHS = 2000
MAX_PARAGRAPH = 100_000
Paragraphs = list[Annotated[str, Field(max_length=MAX_PARAGRAPH)]]


class LetterFields(Input):
    template: Annotated[str, Field(max_length=40, description="模板编号，如 consult")] | None = None
    title: Annotated[str, Field(max_length=MAX_TITLE)] | None = None
    to: Departments | None = Field(default=None, max_length=MAX_DEPARTMENTS, description="主送机关（名称、代码或编号）")
    cc: Departments | None = Field(default=None, max_length=MAX_DEPARTMENTS, description="抄送机关")
    distribution: Departments | None = Field(default=None, max_length=MAX_DEPARTMENTS, description="纪要分送单位")
    co_issuers: Departments | None = Field(default=None, max_length=MAX_DEPARTMENTS, description="联合发文会签机关")
    body: Paragraphs | None = Field(default=None, max_length=MAX_PARAGRAPHS, description="正文段落")
    note: Annotated[str, Field(max_length=1000, description="附注（保存前 200 字）")] | None = None
    urgency: Literal[tuple(URGENCIES)] | None = Field(default=None, description="紧急程度")  # type: ignore[valid-type]
    upward: bool | None = Field(default=None, description="上行文（标注签发人）")
    disclosure: Annotated[str, Field(max_length=10, json_schema_extra={"enum": ["", *DISCLOSURES]})] | None = \
        Field(default=None, description="公开属性：主动公开、依申请公开、删减后公开、不予公开（空：未标注）")
    classification: Annotated[str, Field(max_length=10, json_schema_extra={"enum": list(NON_CLASSIFIED)})] | None = \
        Field(default=None, description="密级：只接受非密，其他取值 422")
    attendance: Attendance | None = Field(default=None, description="纪要的出席、请假、列席名单")
    meeting_id: Id | None = None
    masthead: Annotated[str, Field(max_length=40, description="发文机关标志")] | None = None

    @field_validator("classification")
    @classmethod
    def _non_classified(cls, v: str | None) -> str | None:
        if v is not None and v.strip() not in NON_CLASSIFIED:
            raise ValueError(SECRECY_REFUSED)
        return v

    @field_validator("disclosure")
    @classmethod
    def _disclosure(cls, v: str | None) -> str | None:
        if v is not None and v.strip() and v.strip() not in DISCLOSURES:
            raise ValueError("公开属性只能为" + "、".join(f"“{d}”" for d in DISCLOSURES) + "或不标注")
        return v

    def fields(self) -> dict:
        """The fields the request set, as the letters service takes them."""
        out = self.model_dump(exclude_unset=True, exclude={"kind", "version_sha256"}, by_alias=True)
        if self.attendance is not None:
            out["attendance"] = self.attendance.model_dump(by_alias=True)
        return out


class LetterCreate(LetterFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "kind": "letter", "template": "consult", "title": "关于商请协助核查有关情况的函", "to": ["县市场监督管理局"],
        "cc": [], "body": ["根据工作需要，现就有关事项函商如下：", "一、基本情况", "特此函商。"],
        "note": "联系人：张三，电话：0797-5700000", "urgency": "", "classification": "非密",
        "disclosure": "依申请公开"}]})

    kind: Literal[tuple(KINDS)] = "letter"  # type: ignore[valid-type]
    reply_to_id: Id | None = Field(default=None, description="答复的来文编号（复函）")


class LetterUpdate(LetterFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "关于商请协助核查有关情况的函（修改稿）", "version_sha256": "0" * 64}]})

    kind: Literal[tuple(KINDS)] | None = Field(default=None, description="不可修改，忽略")  # type: ignore[valid-type]
    reply_to_id: Id | None = Field(default=None, description="不可修改，忽略")
    version_sha256: Annotated[str, Field(max_length=64, description="所见版本的摘要（防止覆盖他人修改）")] | None = None


class LetterAction(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "submit", "version_sha256": "0" * 64},
        {"action": "sign", "version_sha256": "0" * 64, "opinion": "同意"}]})

    action: Literal[CHAIN_ACTIONS]  # type: ignore[valid-type]
    version_sha256: Annotated[str, Field(max_length=64, min_length=1)]
    opinion: Annotated[str, Field(max_length=2000, description="意见（退回和签发时必填）")] | None = None


class InboxAction(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "receive"}, {"action": "assign", "handler": "scjg_staff", "days": 5}]})

    action: Literal["receive", "register", "review", "return", "propose", "assign", "circulate", "read", "remind",
                    "reply", "close"] = Field(
        description="签收、登记、初审、退回、拟办、批办（交办）、传阅、阅知、催办、答复、办结")
    opinion: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="初审/退回理由/拟办/批办/催办/办结意见")
    readers: list[Id | Annotated[str, Field(max_length=64, min_length=1)]] | None = Field(
        default=None, max_length=100, description="传阅人员（用户编号或用户名）")
    handler: Id | Annotated[str, Field(max_length=64, min_length=1)] | None = Field(
        default=None, description="承办人（用户编号或用户名）")
    days: int | None = Field(default=None, ge=1, le=365, description="办理时限（工作日）")
    due_on: Day | None = Field(default=None, description="办理期限（代替 days）")
    title: Annotated[str, Field(max_length=MAX_TITLE)] | None = None
    body: Paragraphs | Annotated[str, Field(max_length=MAX_PARAGRAPH)] | None = Field(
        default=None, description="复函正文段落")
    note: Annotated[str, Field(max_length=1000)] | None = None


class AgencyCodeSet(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"department_id": 1, "kind": "letter", "prefix": "石审批函"}]})

    department_id: Id
    kind: Literal[tuple(NUMBER_KINDS)] = Field(  # type: ignore[valid-type]
        description="letter 函、minutes 纪要、incoming 收文编号")
    prefix: Annotated[str, Field(max_length=20, min_length=1, description="机关代字：1–20 个汉字、字母或数字")]


class AttachmentUpload(BaseModel):
    """multipart/form-data：file（附件文件）"""

    file: bytes = Field(json_schema_extra={"format": "binary"})


# -- responses --------------------------------------------------------------------------------------
class FlowStep(BaseModel):
    action: str
    label: str
    actor: str
    opinion: str
    at: str
    version_sha256: str
    voided: bool


class RecipientOut(BaseModel):
    department: str
    role: str
    state: str


class InboxItem(BaseModel):
    """收文"""

    id: int
    letter_id: int
    number: str | None
    title: str
    issuer: str
    role: str
    state: str
    received_at: str | None
    incoming_number: str | None
    handler: str | None
    due_on: str | None
    overdue: bool
    reply_letter_id: int | None
    state_label: str | None = None
    reminder: str | None = Field(default=None, description="催办：临近期限或已逾期（工作日）")
    steps: list[dict] | None = Field(default=None, description="收文处理单：各环节的办理人、时间、意见")
    readings: list[dict] | None = Field(default=None, description="传阅及阅知回执")


class Letter(BaseModel):
    """公文"""

    id: int
    kind: str
    title: str
    issuer: str
    department: str
    number: str | None
    urgency: str
    disclosure: str = Field(description="公开属性（空：未标注）")
    to: list[str]
    cc: list[str]
    distribution: list[str]
    co_issuers: list[str]
    body: list[str]
    note: str
    attachments: list[dict[str, Any]]
    attendance: dict[str, list[str]] | None
    upward: bool
    reply_to_id: int | None
    meeting_id: int | None
    written_on: str | None
    issued_at: str | None
    version_sha256: str
    document_id: int | None
    final_document_id: int | None
    state: str | None = None
    state_label: str | None = None
    steps: list[FlowStep] | None = None
    recipients: list[RecipientOut] | None = None
    inbox_item: InboxItem | None = None


class LetterRow(BaseModel):
    id: int
    title: str
    number: str | None
    state: str


class LetterLists(BaseModel):
    """我的公文工作清单（按环节分组；一页至多 size 件公文，按最近变更排序，next 为下一页）"""

    model_config = ConfigDict(extra="allow")
    next_cursor: str | None = Field(None, description="下一页游标（作为 after 传回）；没有更多时为 null")
    next: str | None = Field(None, description="下一页的地址")


class LetterListQuery(AfterQuery):
    size: int = Field(default=500, ge=1, le=500, description="每页公文件数（默认 500）")


class LetterTemplates(BaseModel):
    """函的模板"""

    items: list[dict[str, Any]]


class InboxList(BaseModel):
    """本单位收文（一页）"""

    items: list[InboxItem]
    size: int | None = None
    next_cursor: str | None = None
    prev_cursor: str | None = None
    total: int | None = None
    total_estimated: bool | None = None
    from_: str | None = Field(default=None, alias="from")


class InboxResult(BaseModel):
    """办理结果"""

    item: InboxItem
    message: str
    reply_letter_id: int | None = None


class AgencyCodeRow(BaseModel):
    department: str
    department_id: int
    kind: str
    prefix: str


class AgencyCodes(BaseModel):
    """机关代字表"""

    items: list[AgencyCodeRow]


class AgencyCode(BaseModel):
    """已设置的机关代字"""

    department_id: int
    kind: str
    prefix: str
