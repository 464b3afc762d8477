"""Each named variant end to end: what it reports, how a web-app client books, and bots."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from snipe.sandbox.config import SandboxConfig
from snipe.sandbox.replica import Replica
from snipe.sandbox.variants import BUNDLES

from .variant_site import BASE, DAY, KEYS, local, unlock_of, utc_text, variant_site

JOINS = ("linkedProduct", "product", "product.translations", "booking")


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize("name", ["likely", "classic", "laggy"])
def test_a_web_app_client_books_a_hall_at_its_release_under_each_variant(name):
    variant = BUNDLES[name]
    start = local(DAY + timedelta(days=1), 17)
    release = unlock_of(start) + timedelta(seconds=variant.release_lag_s)
    # X1 A's resource id, in whichever field names the hall.
    field = "linkedProductId" if variant.hall_id == "linked" else "bookableProductId"
    with variant_site(variant=name) as site:
        assert site.state()["variant"] == variant.json()
        user = site.login(1)
        site.set_clock(release)
        search = {"startDate": utc_text(start), "endDate": utc_text(start + timedelta(hours=1)),
                  "tagIds": {"$in": [147]}, field: {"$in": [4]}, **KEYS}
        [item] = site.listed(search, JOINS)
        assert item["isAvailable"] is True
        assert (item["bookingId"] is None) == (variant.hall_booking_id == "null")
        booked = user.book_item(item)
        assert booked.status_code == 201 and booked.json()["status"] == 1
        cancelled = user.cancel(booked.json()["id"])
        assert cancelled.status_code == (200 if variant.real_shapes else 204)


@pytest.mark.parametrize("name", ["likely", "laggy"])
def test_real_variants_hand_out_jwt_shaped_tokens_and_an_id_token(name):
    with variant_site(variant=name) as site:
        user = site.login(1)
        body = user.login_answer
    token = claims(user.token)
    assert token["sub"] == str(user.id)
    assert token["exp"] - token["iat"] == 86400
    assert abs(token["iat"] - BASE.timestamp()) < 60
    assert claims(body["id_token"])["sub"] == str(user.id)


def test_classic_tokens_stay_opaque():
    with variant_site(variant="classic") as site:
        user = site.login(1)
    assert "." not in user.token and "id_token" not in user.login_answer


@pytest.mark.parametrize("name", ["likely", "classic", "laggy"])
def test_bots_book_a_hall_by_its_internal_id_through_the_one_desk(name):
    replica = Replica.build(SandboxConfig(variant=name, accounts=1))
    try:
        start = local(DAY + timedelta(days=1), 18)
        kind = replica.catalogue.kinds_for("X1", "X1 B")[0]
        internal = replica.catalogue.booking_id(kind, start)
        release = unlock_of(start) + timedelta(seconds=replica.variant.release_lag_s)
        replica.clock.set(now=release)
        bot = replica.accounts.bot_account("fast-x1b-18", "fast")
        [made] = replica.desk.book(bot.id, [internal])
        assert (made.account, made.slot.sub_location, made.bot) == ("fast-x1b-18", "X1 B", "fast")
        shown = replica.shapes.slot(made.slot, replica.clock.now_s())
        assert shown["isAvailable"] is False
    finally:
        replica.store.close()
