"""What we save when the site surprises us never holds a secret: tokens, passwords, cookies or
the one-time code of a single sign-on callback."""

from __future__ import annotations

import json
import stat

from snipe.adapters.sites.artifacts import save_page, save_response

SECRETS = ("eyJhbGciOiJIUzI1NiJ9.tok", "hunter22", "0neT1meC0de", "st4te-xyz", "cookie-v4lue")


def files_of(directory):  # type: ignore[no-untyped-def]
    return {p.name: p.read_text() for p in directory.iterdir() if p.suffix != ".png"}


def test_a_saved_answer_keeps_its_shape_but_no_secret(tmp_path):
    body = json.dumps({"access_token": SECRETS[0], "member": {"id": 7, "password": SECRETS[1]},
                       "note": f"redirect to /oidc/auth-callback?code={SECRETS[2]}"})
    directory = save_response(
        "login", account="user1", method="POST",
        url=f"https://x.example/oidc/auth-callback?code={SECRETS[2]}&state={SECRETS[3]}",
        status=500, headers={"set-cookie": f"sid={SECRETS[4]}", "content-type": "text/json",
                             "Authorization": f"Bearer {SECRETS[0]}"},
        body=body, base=tmp_path)
    saved = files_of(directory)
    text = "\n".join(saved.values())
    assert not [s for s in SECRETS if s in text]
    meta = json.loads(saved["response.json"])
    assert meta["url"].startswith("https://x.example/oidc/auth-callback?code=***")
    assert meta["headers"] == {"content-type": "text/json"}
    assert json.loads(saved["response-body.txt"])["member"] == {"id": 7, "password": "***"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in directory.iterdir())


class Page:
    url = f"https://x.example/oidc/auth-callback?code={SECRETS[2]}&state={SECRETS[3]}"

    async def screenshot(self, **options):  # type: ignore[no-untyped-def]
        raise RuntimeError("no screen here")

    async def content(self) -> str:
        return (f'<form><input name="password" value="{SECRETS[1]}"></form>'
                f'<script>var s = {{"accessToken": "{SECRETS[0]}"}};</script>'
                f'<a href="/cb?code={SECRETS[2]}">again</a>')


async def test_a_saved_page_keeps_no_secret(tmp_path):
    directory = await save_page("login", Page(), account="user1", note="login failed",
                                base=tmp_path)
    saved = files_of(directory)
    assert "page.html" in saved and "page.json" in saved
    text = "\n".join(saved.values())
    assert not [s for s in SECRETS if s in text]
    assert "again" in saved["page.html"]
