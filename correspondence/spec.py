"""The render spec: everything a renderer needs to lay out one letter, minutes or standard document.

Used by ``POST /api/v1/render``, ``archive-service render`` and the letter/minutes workflows.
Validation errors name the offending field (see :func:`parse_spec`).
"""
from __future__ import annotations

import re
from datetime import date as Date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from archive_service.classification import NON_CLASSIFIED

NUMBER_RE = re.compile(r"^(?P<prefix>.+?)〔(?P<year>\d{4})〕(?P<seq>[1-9]\d*)号$")

#: Heading patterns by level (GB/T 9704: 一、 （一） 1. (1)).
HEADING_RES = (
    (1, re.compile(r"^[一二三四五六七八九十百]+、")),
    (2, re.compile(r"^（[一二三四五六七八九十百]+）")),
    (3, re.compile(r"^\d+[.．]")),
    (4, re.compile(r"^[(（]\d+[)）]")),
)

MAX_BODY_CHARS = 100_000
SECRECY_REFUSED = "本系统只处理非密公文：涉密内容（秘密、机密、绝密）不得进入本系统"


def heading_level(paragraph: str) -> int:
    """0 for plain body text, else 1–4 by the paragraph's leading sequence mark."""
    for level, pattern in HEADING_RES:
        if pattern.match(paragraph):
            return level
    return 0


class Attendance(BaseModel):
    """纪要 attendance: each entry is one unit with its people, e.g. "县市场监督管理局 王五"."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    present: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, alias="出席", max_length=500)
    absent: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, alias="请假", max_length=500)
    attending: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, alias="列席", max_length=500)

    def rows(self) -> list[tuple[str, list[str]]]:
        return [(label, items) for label, items in
                (("出席", self.present), ("请假", self.absent), ("列席", self.attending)) if items]


class RenderSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["letter", "minutes", "standard"] = "letter"
    issuer: str = Field(min_length=1, max_length=60)
    title: str = Field(default="", max_length=200)
    to: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)
    cc: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)
    body: list[str] = Field(min_length=1, max_length=5000)
    attachments: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=100)
    note: str = Field(default="", max_length=1000)
    date: Date
    number: str | None = None
    attendance: Attendance | None = None
    urgency: Literal["特急", "加急"] | None = None
    signer: str | None = Field(default=None, max_length=30)
    secrecy: str = Field(default="非密", json_schema_extra={"enum": list(NON_CLASSIFIED)},
                         description="密级：只接受非密，涉密内容不得进入本系统")
    masthead: str | None = Field(default=None, max_length=40)
    printer: str | None = Field(default=None, max_length=60)
    print_date: Date | None = None
    sealed: bool = Field(default=False, description="加盖印章的版式（GB/T 9704 7.3.5.1）：成文日期右空四字，"
                                                    "署名以成文日期为准居中，印章下压署名和成文日期")
    co_issuers: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=10,
        description="联合发文的其他发文机关（按顺序）：加盖印章的版式中各机关署名按顺序排列，印章一一对应下压署名")

    @field_validator("number")
    @classmethod
    def _number(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not NUMBER_RE.match(v):
            raise ValueError("发文字号格式应为“机关代字〔年份〕序号号”，"
                             "如 石审批函〔2026〕7号（六角括号，序号无前导零）")
        return v

    @field_validator("secrecy")
    @classmethod
    def _secrecy(cls, v: str) -> str:
        if v not in NON_CLASSIFIED:
            raise ValueError(SECRECY_REFUSED)
        return "非密"

    @field_validator("body")
    @classmethod
    def _body(cls, v: list[str]) -> list[str]:
        paras = [p.strip() for p in v]
        if not any(paras):
            raise ValueError("正文不能为空")
        if sum(len(p) for p in paras) > MAX_BODY_CHARS:
            raise ValueError(f"正文过长（不超过 {MAX_BODY_CHARS} 字）")
        return [p for p in paras if p]

    @field_validator("to", "cc", "attachments")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        return [s.strip() for s in v if s and s.strip()]

    @field_validator("urgency", mode="before")
    @classmethod
    def _urgency(cls, v):
        return None if v in ("", "无", "普通") else v

    @model_validator(mode="after")
    def _by_kind(self) -> RenderSpec:
        if self.kind != "minutes" and not self.title:
            raise ValueError("title: 函和文件须有标题")
        if self.kind == "letter" and not self.to:
            raise ValueError("to: 函须至少有一个主送机关")
        if self.kind == "minutes" and self.attendance is None:
            self.attendance = Attendance()
        return self


class SpecError(ValueError):
    """A spec failed validation; ``field`` names the first offending field, ``message`` is Chinese."""

    def __init__(self, field: str, message: str, errors: list[dict]):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.errors = field, message, errors


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段",
    "literal_error": "取值不在允许范围内",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "string_type": "应为字符串",
    "list_type": "应为列表",
    "too_short": "不能为空",
    "string_too_long": "过长",
    "too_long": "过长",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
}


def parse_spec(data) -> RenderSpec:
    """Validate ``data`` (a dict) into a RenderSpec or raise :class:`SpecError` naming the field."""
    if isinstance(data, RenderSpec):
        return data
    if not isinstance(data, dict):
        raise SpecError("spec", "规格须为 JSON 对象", [])
    try:
        return RenderSpec.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = str(err.get("msg", ""))
            if err["type"] == "value_error":
                msg = msg.removeprefix("Value error, ")
                if not loc and ": " in msg:
                    loc, msg = msg.split(": ", 1)
            else:
                msg = _PYDANTIC_MESSAGES.get(err["type"], msg)
            errors.append({"field": loc or "spec", "message": msg})
        first = errors[0]
        raise SpecError(first["field"], first["message"], errors) from None
