"""The web pages: the app (its landing page is the booking page), login, an SSO identity-provider
chooser and login form, and the sign-in callback.

Plain HTML and JavaScript from `web/`, no build step. The profile's values (storage key,
timezone, locations, page paths) and what the variant changes on the page (the real site's
markup or the sandbox's classic one, the time convention, the field naming a hall) are handed
to the scripts as `window.SITE`.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from snipe.domain.site import SiteProfile
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.variants import Variant

router = APIRouter()

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
OTHER_INSTITUTIONS = ("Eindhoven University of Technology", "University of Twente")
CALLBACK = "/oidc/auth-callback"  # the real app's redirect target
CLASSIC_CALLBACK = "/pages/oidc-callback"


@cache
def _asset(name: str) -> str:
    return (resources.files("snipe.sandbox") / "web" / name).read_text(encoding="utf-8")


def site_json(profile: SiteProfile, variant: Variant) -> str:
    return json.dumps({
        "storageKey": profile.storage_key,
        "timezone": profile.timezone,
        "pages": {"login": "/pages/login", "booking": "/pages/booking", **profile.pages},
        "tokenLifetime": profile.token_lifetime_s,
        "locations": [
            {"name": loc.name, "tagId": loc.tag_id, "productId": loc.product_id,
             "windowMinutes": loc.window_hours * 60,
             "subLocations": [{"name": s.name, "id": s.resource_id} for s in loc.sub_locations]}
            for loc in profile.locations
        ],
        "real": variant.real_shapes,
        "localZ": variant.times == "local-z",
        "hallField": "bookableProductId" if variant.hall_id == "product" else "linkedProductId",
    })


def _page(request: Request, name: str, **values: str) -> HTMLResponse:
    replica = request.app.state.replica
    site = site_json(replica.profile, replica.variant)
    text = _asset(name).replace("{{SITE}}", site.replace("</", "<\\/"))
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return HTMLResponse(text, headers={"cache-control": "no-store"})


@router.get("/", include_in_schema=False)
async def app_home(request: Request) -> HTMLResponse:
    # The app lands on the booking page: its date picker shows right after login.
    return _page(request, "booking.html")


@router.get("/pages/login", include_in_schema=False)
async def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html")


@router.get("/pages/booking", include_in_schema=False)
async def booking_page(request: Request) -> HTMLResponse:
    return _page(request, "booking.html")


@router.get(CALLBACK, include_in_schema=False)
@router.get(CLASSIC_CALLBACK, include_in_schema=False)
async def oidc_callback(request: Request) -> HTMLResponse:
    return _page(request, "callback.html")


@router.get("/idp/chooser", include_in_schema=False)
async def idp_chooser(request: Request) -> HTMLResponse:
    profile = request.app.state.replica.profile
    university = profile.idp.get("university_title", "Delft University of Technology")
    items = "\n".join(
        f'<div class="idp-item{" idp-disabled" if title != university else ""}" '
        f'data-title="{html.escape(title)}" role="button" tabindex="0">'
        f'<span class="idp-name">{html.escape(title)}</span></div>'
        for title in (university, *OTHER_INSTITUTIONS)
    )
    return _page(request, "chooser.html", INSTITUTIONS=items)


@router.get("/idp/login", include_in_schema=False)
async def idp_form(request: Request) -> HTMLResponse:
    return _page(request, "idp_login.html", ERROR="", USERNAME="")


@router.post("/idp/login", include_in_schema=False)
async def idp_submit(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    username = form.get("username", "").strip()
    password = form.get("password", "")
    accounts = request.app.state.replica.accounts
    if not username or not password:
        return _login_error(request, username, "Enter your NetID and password.")
    try:
        member = accounts.check(username, password)
    except Refusal:
        return _login_error(request, username, "Incorrect NetID or password.")
    code = accounts.grant_code(member)
    callback = CALLBACK if request.app.state.replica.variant.real_shapes else CLASSIC_CALLBACK
    return RedirectResponse(f"{callback}?code={code}", status_code=303)


def _login_error(request: Request, username: str, message: str) -> HTMLResponse:
    error = (f'<div class="alert alert-danger" id="errorText" data-test-id="login-error">'
             f"{html.escape(message)}</div>")
    return _page(request, "idp_login.html", ERROR=error, USERNAME=html.escape(username))


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix not in CONTENT_TYPES or "/" in name or name.startswith("."):
        raise Refusal("not_found", f"no asset {name!r}")
    try:
        text = _asset(name)
    except FileNotFoundError:
        raise Refusal("not_found", f"no asset {name!r}") from None
    return Response(text, media_type=CONTENT_TYPES[suffix])
