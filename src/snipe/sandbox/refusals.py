"""Every refusal the sandbox answers with: an HTTP status and a stable `code` (see API.md).

The code is the sandbox's own vocabulary. How a refusal is written on the wire depends on the
variant: `coded` answers `{"code", "message"}`; `nestjs` answers NestJS's default exception
body `{"statusCode", "message", "error"}` with a human message and the status the real site is
believed to use (every booking refusal captured from it is a 403 with a message).
"""

from __future__ import annotations

from typing import Any

from snipe.errors import PermanentError

STATUS = {
    "malformed_request": 400,
    "invalid_credentials": 401,
    "unauthorized": 401,
    "token_expired": 401,
    "not_open_yet": 403,
    "slot_started": 403,
    "not_allowed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "full": 409,
    "limit_hour": 409,
    "limit_location": 409,
    "rate_limited": 429,
    "server_error": 500,
}

# NestJS: (status, `error` or None when Nest omits it, default message).
NESTJS: dict[str, tuple[int, str | None, str]] = {
    "malformed_request": (400, "Bad Request", "Bad Request"),
    "invalid_credentials": (401, "Unauthorized", "Invalid email or password"),
    # A bare `UnauthorizedException()` (what an auth guard throws) has no `error` field.
    "unauthorized": (401, None, "Unauthorized"),
    "token_expired": (401, None, "Unauthorized"),
    "not_open_yet": (403, "Forbidden", "Booking is not yet available"),
    "slot_started": (403, "Forbidden", "Booking has already started"),
    "not_allowed": (403, "Forbidden", "You are not allowed to do this"),
    "not_found": (404, "Not Found", "Not Found"),
    # Nest has no 405: a route without that method is simply not found.
    "method_not_allowed": (404, "Not Found", "Not Found"),
    "full": (403, "Forbidden", "This booking is full"),
    "limit_hour": (403, "Forbidden", "You are already registered for a booking at this time"),
    "limit_location": (403, "Forbidden",
                       "You have reached the maximum number of bookings for this location today"),
    "already_registered": (403, "Forbidden", "You are already registered for this booking"),
    "rate_limited": (429, None, "ThrottlerException: Too Many Requests"),
    "server_error": (500, None, "Internal server error"),
}


class Refusal(PermanentError):
    """A request the sandbox declines.

    `human` is the message a NestJS server would give (else the code's default); `reason` names
    a finer cause than the code where the real site words it apart (`already_registered`);
    `problems` lists validation failures, which NestJS answers as a list of messages.
    """

    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None, *,
                 human: str | None = None, reason: str | None = None,
                 problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = STATUS[code]
        self.headers = headers or {}
        self.human = human
        self.reason = reason
        self.problems = problems

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def nestjs_status(self) -> int:
        return NESTJS[self.reason or self.code][0]

    def nestjs_body(self) -> dict[str, Any]:
        status, error, default = NESTJS[self.reason or self.code]
        return nestjs_body(status, self.problems or self.human or default, error)

    def render(self, nestjs: bool) -> tuple[int, dict[str, Any]]:
        """(status, body) in the variant's error style."""
        if nestjs:
            return self.nestjs_status(), self.nestjs_body()
        return self.status, self.body()


def nestjs_body(status: int, message: Any, error: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if error is not None:
        body["error"] = error
    return body
