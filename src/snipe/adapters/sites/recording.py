"""Saving a site's answers as fixtures: the requests and answers of a probe, redacted.

Tokens, passwords and personal data (names, emails, NetIDs) never reach these files; member
numbers are replaced by stable stand-ins (the first member seen is 100001, the next 100002...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from snipe.adapters.paths import ensure_private_dir, write_private
from snipe.adapters.sites.artifacts import redact

PERSONAL = re.compile(r"^(email|e-?mail|firstName|lastName|fullName|netId|phone|"
                      r"invitedMemberEmails|username|displayName)$", re.IGNORECASE)
MEMBER_KEYS = ("memberId", "invitedMemberId")
MEMBER_BASE = 900_000  # stand-ins far from the sites' own member numbers
KEPT_HEADERS = ("content-type", "date", "retry-after")


@dataclass
class Anonymiser:
    """Replaces member numbers by stand-ins, the same stand-in for the same member."""

    members: dict[int, int] = field(default_factory=dict)

    def member(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return value
        return self.members.setdefault(value, MEMBER_BASE + len(self.members) + 1)

    def scrub(self, value: Any, parent: str = "") -> Any:
        if isinstance(value, dict):
            out = {}
            # A member's own record (it has personal fields) is numbered by its `id`.
            person = parent == "member" or any(PERSONAL.match(str(k)) for k in value)
            for key, item in value.items():
                if PERSONAL.match(str(key)):
                    out[key] = [] if isinstance(item, list) else "***"
                elif key in MEMBER_KEYS or (person and key == "id"):
                    out[key] = self.member(item)
                else:
                    out[key] = self.scrub(item, str(key))
            return out
        if isinstance(value, list):
            return [self.scrub(v, parent) for v in value]
        return value


def scrub_text(text: str, anonymiser: Anonymiser) -> Any:
    """A body as JSON made safe to share, or its text (tokens masked) when it is not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return {"text": re.sub(r"(Bearer\s+)\S+", r"\1***", text)[:4000]}
    return anonymiser.scrub(redact(data))



class Recorder:
    """Writes each request and its answer to `directory` as `NN-name.json` (0600)."""

    def __init__(self, directory: Path, anonymiser: Anonymiser | None = None) -> None:
        self.directory = ensure_private_dir(directory)
        self.anonymiser = anonymiser or Anonymiser()
        self.count = 0

    def save(self, name: str, response: httpx.Response, note: str = "") -> Path:
        self.count += 1
        request = response.request
        body: Any = None
        if request.content:
            body = scrub_text(request.content.decode("utf-8", "replace"), self.anonymiser)
        entry = {
            "name": name,
            "note": note,
            "request": {"method": request.method, "path": request.url.path,
                        "query": self._query(request), "body": body},
            "status": response.status_code,
            "headers": {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS},
            "body": scrub_text(response.text, self.anonymiser) if response.content else None,
        }
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name)[:60]
        path = self.directory / f"{self.count:02d}-{safe}.json"
        write_private(path, (json.dumps(entry, indent=2, ensure_ascii=False) + "\n").encode())
        return path

    def _query(self, request: httpx.Request) -> list[list[str]]:
        """The query, a search filter's member numbers replaced like the bodies'."""
        query = []
        for key, value in request.url.params.multi_items():
            if key == "s":
                scrubbed = scrub_text(value, self.anonymiser)
                if "text" not in scrubbed:
                    value = json.dumps(scrubbed, separators=(",", ":"))
            query.append([key, value])
        return query
