"""Request and response models of /api/v1/meetings (and the scheduling form): limits in one place."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from correspondence.meeting_models import ATTENDANCE, CAPACITIES, MEETING_KINDS, TOPIC_CATEGORIES

from .schemas import AfterQuery, Day, Id, Input, Query


class TopicIn(Input):
    title: Annotated[str, Field(max_length=300, min_length=1)]
    category: Literal[tuple(TOPIC_CATEGORIES)] = Field(  # type: ignore[valid-type]
        description="第二十三条类别：" + "；".join(f"{k} {v}" for k, v in TOPIC_CATEGORIES.items()))


class ParticipantIn(Input):
    department: Annotated[str, Field(max_length=100, min_length=1, description="部门代码或名称")] | None = None
    user: Annotated[str, Field(max_length=64, min_length=1, description="用户名（参会人员）")] | None = None
    capacity: Literal[tuple(CAPACITIES)] = Field(default="member", description="member 参会、observer 列席")  # type: ignore[valid-type]


class MeetingInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "kind": "joint", "title": "2026年第一季度审管协调联动联席会议", "meeting_date": "2026-03-20",
        "start_time": "09:00", "location": "县行政审批局三楼会议室",
        "topics": [{"title": "食品经营许可后续监管衔接", "category": "process"}],
        "participants": [{"department": "县市场监督管理局", "capacity": "member"}]}]})

    kind: Literal[tuple(MEETING_KINDS)] = Field(default="joint",  # type: ignore[valid-type]
                                               description="joint 联席会议、liaison 联络员会议")
    title: Annotated[str, Field(max_length=200, min_length=1)]
    meeting_date: Day
    start_time: Annotated[str, Field(max_length=10, description="如 09:00")] = ""
    location: Annotated[str, Field(max_length=200)] = ""
    convener: Annotated[str, Field(max_length=100, description="部门代码或名称；默认县行政审批局")] | None = None
    industry_supervision: bool = Field(default=False, description="监管部门召集时须为 true（行业监管事项）")
    chair: Annotated[str, Field(max_length=64, description="主持人用户名（召集单位的签发人）")] | None = None
    urgent_reason: Annotated[str, Field(max_length=500, description="材料期限已过时的紧急事由（记入审计）")] = ""
    topics: list[TopicIn] = Field(max_length=50, description="至少一个议题（第二十三条）")
    participants: list[ParticipantIn] = Field(max_length=200, description="至少一个召集单位以外的参会单位")


class DeadlineQuery(Query):
    date: Day = Field(description="会议日期 YYYY-MM-DD")


class AttendanceEntry(Input):
    participant: Id
    attendance: Literal[tuple(k for k in ATTENDANCE if k)]  # type: ignore[valid-type]
    name: Annotated[str, Field(max_length=64, description="单位参会者的姓名")] = ""


class AttendanceInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"entries": [{"participant": 1, "attendance": "present"}, {"participant": 2, "attendance": "leave"}]}]})

    entries: list[AttendanceEntry] = Field(max_length=500)


class MinutesInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"decisions": ["会议同意建立食品经营许可审管信息推送机制。"], "title": "联席会议纪要"}]})

    decisions: list[Annotated[str, Field(max_length=2000)]] = Field(
        min_length=1, max_length=200, description="议定事项（自动编号 一、二、…）")
    title: Annotated[str, Field(max_length=200)] | None = None


class MinutesPreviewQuery(Query):
    """The minutes preview's query: decisions one per line (the stored ones when absent) and a title."""
    decisions: str = Field("", max_length=200 * 2000)
    title: Annotated[str, Field(max_length=200)] | None = None


class CancelInput(Input):
    reason: Annotated[str, Field(min_length=1, max_length=500, description="取消原因（通知参会单位）")]


class MaterialFields(BaseModel):
    """The form fields of a material upload (besides the file)."""

    title: Annotated[str, Field(max_length=300)] | None = None


class MaterialUpload(MaterialFields):
    """multipart/form-data：file（材料文件）与 title（标题，可选）"""

    file: bytes = Field(json_schema_extra={"type": "string", "format": "binary"})


# -- responses --------------------------------------------------------------------------------------
class TopicOut(BaseModel):
    title: str
    category: str
    category_label: str


class ParticipantOut(BaseModel):
    id: int
    department: str
    user: str | None
    person: str
    capacity: str
    attendance: str


class MaterialOut(BaseModel):
    """已添加的会议材料"""

    document_id: int
    title: str
    sent_at: str | None = None


class Dispatch(BaseModel):
    """送达记录"""

    sent_at: str
    sent_on: str | None = None
    late: bool
    materials: int


class Meeting(BaseModel):
    """会议"""

    id: int
    kind: str
    kind_label: str
    title: str
    convener: str
    industry_supervision: bool
    chair: str
    chair_name: str
    meeting_date: str = Field(json_schema_extra={"format": "date"})
    start_time: str
    location: str
    materials_deadline: str = Field(json_schema_extra={"format": "date"})
    deadline_rule: str
    urgent_reason: str
    status: str
    materials_sent_at: str | None
    materials_late: bool
    topics: list[TopicOut] | None = None
    participants: list[ParticipantOut] | None = None
    materials: list[MaterialOut] | None = None
    dispatches: list[Dispatch] | None = None


class MeetingList(BaseModel):
    """我可见的会议（按会议日期由近及远；next 为下一页）"""

    items: list[Meeting]
    next_cursor: str | None = Field(None, description="下一页游标（作为 after 传回）；没有更多时为 null")
    next: str | None = Field(None, description="下一页的地址")


class MeetingListQuery(AfterQuery):
    size: int = Field(default=200, ge=1, le=200, description="每页会议数（默认 200）")


class Deadline(BaseModel):
    """材料最迟送达日"""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "meeting_date": "2025-10-09", "latest_day": "2025-09-28", "today": "2025-09-01", "missed": False,
        "earliest_meeting": "2025-09-04", "message": "材料最迟须于2025年9月28日送达参会单位（第二十四条）"}]})

    meeting_date: str
    latest_day: str
    today: str
    missed: bool
    earliest_meeting: str
    message: str


class Minutes(BaseModel):
    """纪要及其印发期限"""

    id: int
    meeting_id: int
    title: str
    letter_id: int | None
    state: str
    state_label: str
    signed_at: str | None
    signed_by: str | None
    issue_due: str | None
    issued_at: str | None
    overdue: bool
    issued_late: bool
    signed_by_chair: bool | None
