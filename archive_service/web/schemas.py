"""Request and response models of the core API (/api/v1): the limits of every field live here.

Request models validate (see :mod:`.apispec`); response models document. Both produce the OpenAPI
schemas. Shared field types (ids, days, bounded text) are used by the feature schemas too.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ..documents import MAX_TITLE
from ..errors import BadRequest
from ..listing import Cursor, parse_instant
from .limits import MAX_ID

# -- shared field types -----------------------------------------------------------------------------
Id = Annotated[int, Field(ge=1, le=MAX_ID, description="编号（1 – 2147483647）")]
#: Pages beyond this are refused (an offset must stay far inside a 64-bit integer).
MAX_PAGE = 1_000_000
DAY_MIN, DAY_MAX = date(1900, 1, 1), date(2199, 12, 31)


def _day(value: Any) -> Any:
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("日期格式应为 YYYY-MM-DD") from None
    else:
        raise ValueError("日期格式应为 YYYY-MM-DD")
    if not DAY_MIN <= parsed <= DAY_MAX:
        raise ValueError(f"日期须在 {DAY_MIN.isoformat()} 至 {DAY_MAX.isoformat()} 之间")
    return parsed


Day = Annotated[date, BeforeValidator(_day),
                WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD（1900 – 2199 年）"})]


class Input(BaseModel):
    """A request body: unknown fields are refused (422 naming the field)."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """A query string: unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


# -- errors -----------------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str
    message: str = Field(description="中文说明")
    details: dict[str, Any] | None = Field(default=None, description="如 field（出错的字段）、errors（全部字段错误）")


class ErrorBody(BaseModel):
    """错误"""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"error": {"code": "bad_request", "message": "请求体须为 JSON 对象"}},
        {"error": {"code": "unprocessable", "message": "title：过长（不超过 300 个字符）",
                   "details": {"field": "title",
                               "errors": [{"field": "title", "message": "过长（不超过 300 个字符）"}]}}},
    ]})

    error: ErrorDetail


# -- requests ---------------------------------------------------------------------------------------
class TokenRequest(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"username": "drafter", "password": "demo-2026"}]})

    username: Annotated[str, Field(max_length=64, min_length=1)]
    password: Annotated[str, Field(max_length=1024, min_length=1)]


class TokenRevoke(BaseModel):
    """The token page's form: the token to revoke (none: issue a new token)."""
    revoke: Id | None = None


class Paging(Query):
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    size: int = Field(default=20, ge=1, le=100)


class KeysetQuery(Query):
    """Keyset paging: ``after``/``before`` are the cursors a page returned, ``from`` jumps to a time."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    size: int | None = Field(default=None, ge=1, le=100, description="每页条数（默认 20，审计日志 50）")
    after: Annotated[str, Field(max_length=200, description="下一页：上一页返回的 next_cursor")] | None = None
    before: Annotated[str, Field(max_length=200, description="上一页：返回的 prev_cursor")] | None = None
    from_: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, alias="from", description="跳到此时间之前（含当天），如 2026-03-05 或 2026-03-05T09:30:00+08:00")

    def keyset(self, default_size: int) -> dict:
        """Keyword arguments of the services' keyset ``page()``; a bad cursor or time is 400."""
        after, before = Cursor.decode(self.after, "after"), Cursor.decode(self.before, "before")
        for name, cursor in (("after", after), ("before", before)):
            if cursor is not None and not 0 <= cursor.id <= MAX_ID:
                raise BadRequest(f"{name} 参数不是有效的翻页游标（请使用上一页返回的 next_cursor）", field=name)
        try:
            start = parse_instant(self.from_, "from", end_of_day=True)
        except OverflowError:
            raise BadRequest("from 超出可用的日期范围", field="from") from None
        return {"size": self.size or default_size, "after": after, "before": before, "start": start}


class AfterQuery(Query):
    """Forward keyset paging of a list read whole by most clients: ``after`` is the ``next_cursor`` a page returned."""

    after: Annotated[str, Field(max_length=200, description="下一页：上一页返回的 next_cursor")] | None = None

    def cursor(self) -> Cursor | None:
        """The decoded ``after`` cursor (None on the first page); a bad one is 400."""
        cursor = Cursor.decode(self.after, "after")
        if cursor is not None and not 0 <= cursor.id <= MAX_ID:
            raise BadRequest("after 参数不是有效的翻页游标（请使用上一页返回的 next_cursor）", field="after")
        return cursor


class ListQuery(KeysetQuery):
    page: int | None = Field(default=None, ge=1, le=MAX_PAGE, description="页码（按页码翻页，深页较慢）")


class AuditFilter(Query):
    action: Annotated[str, Field(max_length=64, description="动作前缀，如 document.")] | None = None
    actor: Annotated[str, Field(max_length=64, description="操作人用户名")] | None = None
    target: Annotated[str, Field(max_length=80, description="对象编号")] | None = None


class AuditQuery(AuditFilter, ListQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class VersionQuery(Query):
    version: Id | None = Field(default=None, description="版本号，默认当前版本")


class SearchQuery(Paging):
    q: Annotated[str, Field(max_length=500)] = Field(
        default="", description="查询：词之间为“且”；\"短语\"；OR；-排除；type: dept: year: 文号: 档号: 筛选")
    type: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20,
                                                             description="文档类型（可重复）")
    dept: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50,
                                                              description="部门代码（可重复）")
    year: Annotated[str, Field(max_length=20, description="年度或年度范围，如 2025 或 2020-2025")] | None = None
    sort: Literal["relevance", "date"] = "relevance"


class DocumentFields(BaseModel):
    """The form fields of a document upload (besides the file)."""

    title: Annotated[str, Field(max_length=MAX_TITLE, description="标题，默认为文件名")] | None = None


class DocumentUpload(DocumentFields):
    """multipart/form-data：file（文件）与 title（标题，可选）"""

    file: Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})]


class PdfUpload(BaseModel):
    """multipart/form-data：file（PDF 文件）"""

    file: Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})]


# -- responses --------------------------------------------------------------------------------------
class Token(BaseModel):
    """访问令牌"""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"token": "q0yGk1Q2x…", "token_type": "Bearer", "username": "drafter",
         "expires_at": "2026-04-04T08:00:00Z"}]})

    token: str
    token_type: Literal["Bearer"]
    username: str
    expires_at: str = Field(json_schema_extra={"format": "date-time"}, description="过期时间（UTC）")


class Me(BaseModel):
    """当前用户"""

    id: int
    username: str
    full_name: str
    department: str
    roles: list[str]


class DocumentVersionOut(BaseModel):
    number: int
    filename: str
    size: int
    media_type: str
    sha256: str
    sm3: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class Document(BaseModel):
    """文档"""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1, "title": "审批档案", "kind": "file", "department": "市场准入审批股", "department_code": "SCZR",
        "version": 1, "filename": "审批档案.pdf", "size": 1024, "media_type": "application/pdf",
        "sha256": "0" * 64, "sm3": "0" * 64, "created_at": "2026-03-05T08:00:00Z",
        "updated_at": "2026-03-05T08:00:00Z", "created_by": "drafter"}]})

    id: int
    title: str
    kind: str
    department: str
    department_code: str
    version: int
    filename: str
    size: int
    media_type: str
    sha256: str
    sm3: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    created_by: str
    versions: list[DocumentVersionOut] | None = Field(default=None, description="详情中才有")


class DocumentPage(BaseModel):
    """一页文档（按页码：page、pages；按游标：next_cursor、prev_cursor）"""

    items: list[Document]
    total: int | None = None
    size: int
    page: int | None = None
    pages: int | None = None
    next_cursor: str | None = None
    prev_cursor: str | None = None
    total_estimated: bool | None = None
    from_: str | None = Field(default=None, alias="from")


class NewVersion(BaseModel):
    """新版本"""

    document_id: int
    version: int
    filename: str


class LiaisonGap(BaseModel):
    department: str
    department_code: str
    filed_with: str
    filed_with_code: str
    message: str


class LiaisonGaps(BaseModel):
    """联络员备案缺口"""

    gaps: list[LiaisonGap]
    total: int


class LiaisonInput(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"user": "scjg_liaison", "filed_with": "SCZR", "phone": "0797-5701234"}]})

    user: Annotated[str, Field(min_length=1, max_length=64, description="联络员（用户名或编号），须有联络员角色")]
    filed_with: Annotated[str, Field(min_length=1, max_length=100, description="备案对象（部门代码或名称）")]
    phone: Annotated[str, Field(max_length=40, description="联系电话")] = ""


class LiaisonOut(BaseModel):
    id: int
    department: str
    department_code: str
    name: str
    username: str
    phone: str
    filed_with: str
    filed_with_code: str
    filed_on: str


class LiaisonList(BaseModel):
    items: list[LiaisonOut]


class AuditEventOut(BaseModel):
    id: int
    at: str
    actor: str
    department_id: int | None
    action: str
    target_type: str
    target_id: str
    details: Any
    hash: str


class AuditPage(BaseModel):
    """一页审计事件（新的在前）"""

    items: list[AuditEventOut]
    size: int
    page: int | None = None
    next_cursor: str | None = None
    prev_cursor: str | None = None
    total: int | None = None
    total_estimated: bool | None = None
    from_: str | None = Field(default=None, alias="from")


class SearchHitPart(BaseModel):
    """A part of a letter that matched (文稿、正式文件、公文处理单、附件n)."""
    id: int
    part: str | None = None
    title: str | None = None
    kind: str | None = None
    url: str | None = None


class SearchHit(BaseModel):
    id: int | str
    title: str | None
    title_html: str | None = None
    snippet_html: str | None = None
    page: int | None = Field(None, description="命中内容所在页（扫描件识别文字按页保存时）")
    access: Literal["full", "catalogue"]
    kind: str | None = None
    kind_label: str | None = None
    numbers: list[str]
    department: str | None = None
    department_code: str | None = None
    date: str | None = None
    year: int | str | None = None
    retention: str | None = None
    score: float | None = None
    url: str | None = None
    group: str | None = None
    part: str | None = None
    parts: list[SearchHitPart] = []


class FacetValue(BaseModel):
    value: Any
    count: int


class SearchPage(BaseModel):
    """结果：total、hits（title_html/snippet_html 已转义，命中处为 <mark>；仅目录可见的只有标题等元数据）、facets"""

    query: str
    total: int
    page: int
    size: int
    pages: int
    sort: str
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    message: str | None = None


class PdfSignature(BaseModel):
    field_name: str | None = None
    department: str | None = None
    department_code: str | None = None
    organization: str | None = None
    signer_name: str | None = None
    reason: str | None = None
    location: str | None = None
    signing_time: str | None = Field(default=None, json_schema_extra={"format": "date-time"})
    signing_time_local: str | None = Field(default=None, description="北京时间")
    intact: bool = Field(description="签署后文件未被篡改")
    valid: bool = Field(description="签名值校验通过")
    trusted: bool = Field(description="证书链到受信任的根证书")
    covers_whole_file: bool | None = None
    ok: bool
    issuer: str | None = None
    certificate_serial: str | None = None
    certificate_sha256: str | None = None
    summary: str | None = None


class SignatureReport(BaseModel):
    """签名验证报告（签名人、时间、完整性、信任）"""

    signed: bool
    intact: bool
    valid: bool
    trusted: bool
    ok: bool
    summary: str = Field(description="中文结论")
    department: str | None
    signer_name: str | None
    signing_time: str | None = Field(json_schema_extra={"format": "date-time"})
    signatures: list[PdfSignature]
    filename: str | None = Field(default=None, description="上传验证时：文件名")
    document_id: int | None = Field(default=None, description="已存文档验证时")
    version: int | None = None
    sha256: str | None = None


class OpenApiDocument(BaseModel):
    """本文档（OpenAPI 3.1）"""

    model_config = ConfigDict(extra="allow")

    openapi: str
    paths: dict[str, Any]
