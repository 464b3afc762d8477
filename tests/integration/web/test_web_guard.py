"""Who gets in: no login on loopback (but only loopback Host names), the token and a signed
cookie elsewhere (a rotation ends every session), a bearer token for scripts; and no
state-changing request without the CSRF token or from another site."""

from __future__ import annotations

import httpx

from snipe.web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, rotate_token
from web_support import ORIGIN
from web_support import Api as Client

from .conftest import client_for


async def test_without_the_token_every_route_answers_401_and_pages_ask_for_it(seeded) -> None:
    api = await client_for(seeded, require_login=True)
    home = seeded.settings.home
    token = rotate_token(home)
    for path in ("/api/status", "/api/accounts", "/api/events", "/calendar.ics"):
        answered = await api.get(path)
        assert answered.status_code == 401, path
        assert token not in answered.text
    page = await api.get("/slots")
    assert page.status_code == 401 and 'id="login-form"' in page.text
    wrong = await api.send("POST", "/login", {"token": "not-it"})
    assert wrong.status_code == 401

    right = await api.send("POST", "/login", {"token": token})
    assert right.status_code == 200
    cookie = right.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert token not in cookie
    assert (await api.get("/api/status")).status_code == 200
    assert (await api.get("/slots")).status_code == 200

    rotate_token(home)  # every browser logs in again
    assert (await api.get("/api/status")).status_code == 401
    await api.client.aclose()


async def test_a_forged_or_foreign_session_cookie_is_refused(seeded) -> None:
    api = await client_for(seeded, require_login=True)
    token = rotate_token(seeded.settings.home)
    await api.send("POST", "/login", {"token": token})
    good = api.client.cookies.get(SESSION_COOKIE)
    generation, expires, signature = good.split(".")
    for forged in (f"{generation}.{int(expires) + 1}.{signature}", f"x.{expires}.{signature}",
                   "garbage"):
        api.client.cookies.set(SESSION_COOKIE, forged)
        assert (await api.get("/api/status")).status_code == 401, forged
    await api.client.aclose()


async def test_a_script_may_use_the_token_as_a_bearer(seeded) -> None:
    app_client = await client_for(seeded, require_login=True)
    token = rotate_token(seeded.settings.home)
    client = app_client.client
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/status", headers=headers)).status_code == 200
    # No cookie to ride on: a bearer request needs no CSRF token.
    cancelled = await client.delete("/api/strikes/999999", headers=headers)
    assert cancelled.status_code == 404
    await client.aclose()


async def test_state_changes_need_the_csrf_token_and_the_same_origin(api) -> None:
    client = api.client
    strike = (await api.json("/api/strikes"))["strikes"][0]["id"]
    path = f"/api/strikes/{strike}"
    no_token = await client.delete(path)
    assert no_token.status_code == 403 and "CSRF" in no_token.json()["detail"]
    wrong = await client.delete(path, headers={CSRF_HEADER: "guess"})
    assert wrong.status_code == 403
    foreign = await client.delete(path, headers={CSRF_HEADER: api.csrf,
                                                 "Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "another origin" in foreign.json()["detail"]
    cross = await client.delete(path, headers={CSRF_HEADER: api.csrf,
                                               "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and "another site" in cross.json()["detail"]
    same = await client.delete(path, headers={CSRF_HEADER: api.csrf, "Origin": ORIGIN,
                                              "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200
    assert (await api.json("/api/strikes", state="cancelled"))["strikes"][0]["id"] == strike


async def test_on_loopback_only_loopback_host_names_are_answered(seeded) -> None:
    api = await client_for(seeded)
    assert (await api.get("/api/status")).status_code == 200
    rebound = await api.client.get("/api/status", headers={"Host": "attacker.example:8788"})
    assert rebound.status_code == 403
    for host in ("localhost:8788", "[::1]:8788"):
        assert (await api.client.get("/api/status", headers={"Host": host})).status_code == 200
    await api.client.aclose()


async def test_the_first_answer_hands_out_the_csrf_cookie(seeded) -> None:
    app = (await client_for(seeded)).client._transport.app  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=ORIGIN) as client:
        first = await client.get("/")
        assert CSRF_COOKIE in first.headers["set-cookie"]
        assert "samesite=strict" in first.headers["set-cookie"].lower()
        second = await client.get("/")
        assert "set-cookie" not in second.headers
        assert (await Client(client).start()).csrf == client.cookies.get(CSRF_COOKIE)
