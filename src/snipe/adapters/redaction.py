"""Keeping secrets out of what we send, log or save: URL credentials, bearer tokens,
`password=...` (also as a JSON field), one-time codes in URLs, and any secret we were told about.
The one place that knows what a secret looks like: notifications, logs, artifacts and recorded
answers all redact through it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}")
_ASSIGNED = re.compile(
    r"(?i)\b(password|passwd|pwd|token|access_?token|refresh_?token|id_?token|secret|"
    r"api_?key|apikey)(\"?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)")
# A single sign-on callback carries a one-time code (and state) in its query string.
_IN_QUERY = re.compile(r"(?i)([?&#](?:code|state|session_state|id_token|access_token)=)"
                       r"[^&#\s\"'<>]+")
SECRET_FIELD = re.compile(r"(?i)(token|password|secret|authorization)")
# A saved page: the value of a password input.
_INPUT = re.compile(r"(?i)<input\b[^>]*>")
_PASSWORD_ATTR = re.compile(r"(?i)\b(?:type|name|id|autocomplete)\s*=\s*[\"']?[^\"'>\s]*pass")
_VALUE_ATTR = re.compile(r"(?i)(\bvalue\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s>]+)")
MIN_SECRET = 4  # shorter fragments would blank out ordinary words
TOKEN_LIKE = 8  # host or path pieces this long may be tokens (bot tokens, topics, keys)
PLAIN_HOSTS = {"localhost", "127.0.0.1"}


def url_secrets(url: str) -> list[str]:
    """The parts of a notification URL that may be credentials: user and password, and the
    token-like host or path segments (tgram://TOKEN/CHAT, discord://ID/TOKEN, ...)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [s for s in (parts.username, parts.password) if s and len(s) >= MIN_SECRET]
    pieces = [parts.hostname or "", *(unquote(s) for s in parts.path.split("/")),
              *(v for _, _, v in (q.partition("=") for q in parts.query.split("&")))]
    found += [s for s in pieces if len(s) >= TOKEN_LIKE and s not in PLAIN_HOSTS]
    return found


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets, URL credentials, bearer tokens or `password=...`."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len,
                         reverse=True):
        text = text.replace(secret, "***")
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    text = _BEARER.sub(r"\1 ***", text)
    text = _IN_QUERY.sub(r"\1***", text)
    text = _INPUT.sub(_password_input, text)
    return _ASSIGNED.sub(_assigned, text)


def _password_input(match: re.Match[str]) -> str:
    tag = match.group(0)
    return _VALUE_ATTR.sub(r'\1"***"', tag) if _PASSWORD_ATTR.search(tag) else tag


def _assigned(match: re.Match[str]) -> str:
    value = match.group(3)
    quote = value[0] if value[:1] in ('"', "'") else ""
    return f"{match.group(1)}{match.group(2)}{quote}***{quote}"


def redact_json(value: Any) -> Any:
    """A copy of a JSON value with every secret-looking field replaced by `***`, and secrets
    in its strings redacted."""
    if isinstance(value, dict):
        return {k: "***" if SECRET_FIELD.search(str(k)) and not isinstance(v, dict | list)
                else redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return redact(value) if isinstance(value, str) else value


class RedactingFilter(logging.Filter):
    """Redacts a logger's records (a library's debug lines may print a notification URL)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the library's; leave it be
            return True
        record.msg, record.args = redact(message, self.secrets), ()
        return True


def describe_url(url: str) -> str:
    """How a notification URL is shown to the user: its kind only (`tgram://***`)."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"{scheme}://***"
