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
from snipe.adapters.redaction import SECRET_FIELD, redact_json
from snipe.adapters.redaction import redact as redact_secrets

log = logging.getLogger(__name__)
_CLOCK = SystemClock()  # artifacts are stamped with the time they were saved, on this machine

redact = redact_json  # what recorded answers use too


def redact_text(text: str) -> str:
    """An answer's body without secrets: field by field when it is JSON."""
    try:
        return json.dumps(redact_json(json.loads(text)), indent=2)
    except ValueError:
        return redact_secrets(text)


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
    safe_headers = {k: redact_secrets(v) for k, v in (headers or {}).items()
                    if not SECRET_FIELD.search(k) and k.lower() not in ("cookie", "set-cookie")}
    meta = {"method": method, "url": redact_secrets(url), "status": status,
            "headers": safe_headers,
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
        write_private(directory / "page.html", redact_secrets(html).encode())
    except Exception as exc:
        log.debug("page HTML could not be read: %s", exc)
    meta = {"url": redact_secrets(getattr(page, "url", "")), "note": redact_secrets(note),
            "saved_at": _CLOCK.now().isoformat()}
    write_private(directory / "page.json", json.dumps(meta, indent=2).encode())
    if response_body is not None:
        text = (response_body.decode("utf-8", "replace") if isinstance(response_body, bytes)
                else response_body)
        write_private(directory / "response-body.txt", redact_text(text).encode())
    return directory
