"""The administrator's forms (departments, users, liaisons, calendar) as models: ids, enums and lengths."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from ..models import DEPARTMENT_KINDS, ROLES
from .schemas import Day, Id

Name = Annotated[str, Field(max_length=100)]
Ref = Annotated[str, Field(max_length=100, description="部门代码或名称")]
def _role(value: str) -> str:
    if value not in ROLES:
        raise ValueError(f"未知角色：{value}（可选：{'、'.join(ROLES)}）")
    return value


Role = Annotated[str, AfterValidator(_role), WithJsonSchema({"type": "string", "enum": list(ROLES)})]
Roles = list[Role]


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DepartmentForm(Form):
    id: Id | None = None
    name: Name | None = None
    full_name: Annotated[str, Field(max_length=100)] | None = None
    code: Annotated[str, Field(max_length=20)] | None = None
    kind: Literal[tuple(DEPARTMENT_KINDS)] | None = None  # type: ignore[valid-type]
    parent: Ref | None = None


class UserForm(Form):
    username: Annotated[str, Field(max_length=64)] | None = None
    full_name: Annotated[str, Field(max_length=64)] | None = None
    department: Ref = ""
    roles: Roles = Field(default_factory=list)
    password: Annotated[str, Field(max_length=1024)] = ""


class UserUpdateForm(Form):
    action: Literal["roles", "activate", "deactivate", "password", "department"]
    roles: Roles = Field(default_factory=list)
    password: Annotated[str, Field(max_length=1024)] = ""
    department: Ref = ""


class LiaisonForm(Form):
    action: Literal["file", "withdraw", "link", "unlink"]
    user_id: Id | None = None
    liaison_id: Id | None = None
    filed_with: Ref = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    section: Ref = ""
    regulator: Ref = ""


class CalendarForm(Form):
    action: Literal["set", "delete", "confirm_year", "withdraw_notice"] = "set"
    day: Day | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)
    is_workday: Literal["0", "1"] = "0"
    note: Annotated[str, Field(max_length=200)] = ""


class CalendarQuery(Form):
    year: int | None = Field(default=None, ge=1900, le=2199)


class CalendarNoticeFields(Form):
    """The fields of a State Council notice upload (besides the file), before or after it."""
    year: int = Field(ge=2000, le=2100)
    title: Annotated[str, Field(max_length=200)] = ""
