"""What we saw when the site surprised us: screenshot, page HTML, response body.

Saved under `<data dir>/artifacts/<time>-<what>-<account>/` so a user (or a bug report) can see
exactly how the site changed. Tokens never reach these files: bodies are redacted first.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from snipe.adapters.clock import SystemClock
from snipe.adapters.paths import artifacts_dir, ensure_private_dir, write_private

log = logging.getLogger(__name__)
_CLOCK = SystemClock()  # artifacts are stamped with the time they were saved, on this machine

_SECRET_KEYS = re.compile(r"(token|password|secret|authorization)", re.IGNORECASE)
_SECRET_IN_TEXT = re.compile(
    r'("?(?:access_?token|accessToken|refresh_?token|password|authorization)"?\s*[:=]\s*)'
    r'("[^"]*"|[^\s,&}]+)',
    re.IGNORECASE,
)


def redact(value: Any) -> Any:
    """A copy of a JSON value with every secret-looking field replaced by `***`."""
    if isinstance(value, dict):
        return {k: "***" if _SECRET_KEYS.search(str(k)) and not isinstance(v, dict | list)
                else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_text(text: str) -> str:
    try:
        return json.dumps(redact(json.loads(text)), indent=2)
    except ValueError:
        return _SECRET_IN_TEXT.sub(r'\1"***"', text)


def new_artifact_dir(what: str, account: str = "", base: Path | None = None) -> Path:
    stamp = _CLOCK.now().strftime("%Y%m%dT%H%M%S%fZ")
    name = "-".join(p for p in (stamp, what, account) if p)
    safe = re.sub(r"[^A-Za-z0-9._@-]+", "_", name)[:120]
    return ensure_private_dir((base or artifacts_dir()) / safe)


def save_response(
    what: str,
    *,
    account: str = "",
    method: str = "",
    url: str = "",
    status: int | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str = b"",
    base: Path | None = None,
) -> Path:
    """Save an HTTP answer we did not understand; returns the directory."""
    directory = new_artifact_dir(what, account, base)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    safe_headers = {k: v for k, v in (headers or {}).items() if not _SECRET_KEYS.search(k)}
    meta = {"method": method, "url": url, "status": status, "headers": safe_headers,
            "saved_at": _CLOCK.now().isoformat()}
    write_private(directory / "response.json", json.dumps(meta, indent=2).encode())
    write_private(directory / "response-body.txt", redact_text(text).encode())
    return directory


async def save_page(
    what: str, page: Any, *, account: str = "", note: str = "", base: Path | None = None,
    response_body: bytes | str | None = None,
) -> Path:
    """Save a screenshot and the HTML of a Playwright page (each best effort)."""
    directory = new_artifact_dir(what, account, base)
    try:
        await page.screenshot(path=str(directory / "screenshot.png"), full_page=True, timeout=5000)
        (directory / "screenshot.png").chmod(0o600)
    except Exception as exc:  # a crashed page must not hide the original problem
        log.debug("screenshot failed: %s", exc)
    try:
        html = await page.content()
        write_private(directory / "page.html", _SECRET_IN_TEXT.sub(r'\1"***"', html).encode())
    except Exception as exc:
        log.debug("page HTML could not be read: %s", exc)
    meta = {"url": getattr(page, "url", ""), "note": note,
            "saved_at": _CLOCK.now().isoformat()}
    write_private(directory / "page.json", json.dumps(meta, indent=2).encode())
    if response_body is not None:
        text = (response_body.decode("utf-8", "replace") if isinstance(response_body, bytes)
                else response_body)
        write_private(directory / "response-body.txt", redact_text(text).encode())
    return directory
