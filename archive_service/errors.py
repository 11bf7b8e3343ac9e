"""Domain errors. One handler in the web layer maps them to HTTP; nothing below it knows HTTP."""


class DomainError(Exception):
    code = "error"
    status = 400
    default_message = "请求无效"

    def __init__(self, message: str | None = None, **details):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class BadRequest(DomainError):
    code, status, default_message = "bad_request", 400, "请求格式错误"


class Unauthorized(DomainError):
    code, status, default_message = "unauthorized", 401, "请先登录"


class Forbidden(DomainError):
    code, status, default_message = "forbidden", 403, "无权执行此操作"


class NotFound(DomainError):
    code, status, default_message = "not_found", 404, "对象不存在"


class Conflict(DomainError):
    code, status, default_message = "conflict", 409, "与现有数据冲突"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TooLarge(DomainError):
    code, status, default_message = "too_large", 413, "文件超过大小限制"


class Unprocessable(DomainError):
    code, status, default_message = "unprocessable", 422, "内容无法处理"


class RateLimited(DomainError):
    code, status, default_message = "rate_limited", 429, "尝试次数过多，请稍后再试"


class StorageUnavailable(DomainError):
    code, status, default_message = "storage_unavailable", 503, "存储服务暂不可用，请稍后重试"


class IntegrityError(DomainError):
    code, status, default_message = "integrity_error", 500, "完整性校验失败"
