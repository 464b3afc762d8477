"""Every refusal the sandbox answers with: an HTTP status and a stable `code` (see API.md)."""

from __future__ import annotations

from snipe.errors import PermanentError

STATUS = {
    "malformed_request": 400,
    "invalid_credentials": 401,
    "unauthorized": 401,
    "token_expired": 401,
    "not_open_yet": 403,
    "slot_started": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "full": 409,
    "limit_hour": 409,
    "limit_location": 409,
    "rate_limited": 429,
}


class Refusal(PermanentError):
    """A request the sandbox declines; rendered as `status {"code", "message"}`."""

    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = STATUS[code]
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}
