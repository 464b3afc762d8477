"""Keeping secrets out of what we send or save: URL credentials, bearer tokens, `password=...`
and any secret we were told about."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}")
_ASSIGNED = re.compile(
    r"(?i)\b(password|passwd|pwd|token|access_token|secret|api_?key|apikey)(\s*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,;&]+)")
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
    return _ASSIGNED.sub(r"\1\2***", text)


def describe_url(url: str) -> str:
    """How a notification URL is shown to the user: its kind only (`tgram://***`)."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"{scheme}://***"
