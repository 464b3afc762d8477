"""Variants as values: bundles, overrides, one-line errors, times and token shapes; no server."""

from __future__ import annotations

import base64
import json
from dataclasses import fields
from datetime import UTC, datetime

import pytest

from base_time import DELFT
from snipe.sandbox.accounts import jwt_shaped
from snipe.sandbox.config import SandboxConfig, SandboxConfigError
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.timestamps import Timestamps
from snipe.sandbox.variants import (
    BUNDLES,
    DEFAULT_VARIANT,
    EARLY_LISTING_LEAD_S,
    KNOBS,
    Variant,
    parse_listing,
)


def test_the_default_variant_is_the_likely_real_site():
    assert DEFAULT_VARIANT == "likely"
    assert SandboxConfig().play == BUNDLES["likely"]


def test_the_classic_variant_plays_the_sandbox_as_it_was():
    played = SandboxConfig(variant="classic").play
    assert played == BUNDLES["classic"]
    assert played.json() == {
        "name": "classic", "listing": "at_unlock", "release_lag_s": 0.0, "hall_id": "linked",
        "hall_booking_id": "present", "errors": "coded", "search_keys": "ignored",
        "joins": "embedded", "waitlist": "off", "times": "utc", "shapes": "classic",
        "overrides": [],
    }


def test_the_likely_and_laggy_bundles_differ_only_in_when_slots_are_released():
    likely, laggy = Variant.from_name("likely"), Variant.from_name("LAGGY")
    assert (likely.listing, likely.release_lag_s) == ("early", 0.0)
    assert (laggy.listing, laggy.release_lag_s) == ("lag", 90.0)
    for variant in (likely, laggy):
        assert (variant.hall_id, variant.hall_booking_id, variant.errors, variant.search_keys,
                variant.joins, variant.waitlist, variant.times, variant.shapes) == (
            "product", "null", "nestjs", "required", "required", "on", "utc", "real")


def test_single_knobs_override_the_bundle_and_are_reported_as_overrides():
    config = SandboxConfig(variant="classic", listing="lag:30", errors="nestjs", waitlist=True)
    played = config.play
    assert (played.listing, played.release_lag_s, played.errors, played.waitlist) == (
        "lag", 30.0, "nestjs", "on")
    assert played.overrides == ["listing lag:30", "errors nestjs", "waitlist on"]
    likely_early = SandboxConfig(variant="likely", listing="at_unlock").play
    assert likely_early.listing == "at_unlock" and likely_early.hall_booking_id == "null"
    assert SandboxConfig(variant=BUNDLES["laggy"]).play.release_lag_s == 90.0


def test_when_a_slot_is_listed_and_opens_under_each_listing():
    unlock = 1_000_000.0
    early, at_unlock, lag = (Variant("x", *parse_listing(v)) for v in
                             ("early", "at_unlock", "lag:90"))
    assert early.listed_from(unlock) == unlock - EARLY_LISTING_LEAD_S
    assert early.opens_at(unlock) == unlock
    assert at_unlock.listed_from(unlock) == at_unlock.opens_at(unlock) == unlock
    assert lag.listed_from(unlock) == lag.opens_at(unlock) == unlock + 90
    assert lag.release_lag_s == 90 and early.release_lag_s == 0


@pytest.mark.parametrize(("options", "says"), [
    ({"variant": "realistic"}, "unknown sandbox variant 'realistic' (known: likely, classic, "
                               "laggy)"),
    ({"listing": "late"}, "unknown sandbox listing 'late' (known: early, at_unlock, "
                          "lag:SECONDS)"),
    ({"listing": "lag:soon"}, "sandbox listing 'lag:soon': lag needs seconds"),
    ({"listing": "lag:0"}, "sandbox listing 'lag:0': lag needs seconds"),
    ({"listing": "early:5"}, "unknown sandbox listing 'early:5'"),
    ({"hall_id": "resource"}, "unknown sandbox hall-id 'resource' (known: linked, product)"),
    ({"hall_booking_id": "none"}, "unknown sandbox hall-booking-id 'none' (known: present, null)"),
    ({"errors": "json"}, "unknown sandbox errors 'json' (known: nestjs, coded)"),
    ({"search_keys": "optional"}, "unknown sandbox search-keys 'optional'"),
    ({"joins": "never"}, "unknown sandbox joins 'never' (known: required, embedded)"),
    ({"waitlist": "maybe"}, "unknown sandbox waitlist 'maybe' (known: on, off)"),
    ({"times": "local"}, "unknown sandbox times 'local' (known: utc, local-z)"),
    ({"shapes": "new"}, "unknown sandbox shapes 'new' (known: real, classic)"),
])
def test_a_bad_knob_value_is_one_line_naming_it(options, says):
    with pytest.raises(SandboxConfigError) as raised:
        SandboxConfig(**options)
    message = str(raised.value)
    assert says in message and "\n" not in message
    assert raised.value.exit_code == 2


def test_every_knob_is_a_field_and_the_banner_line_names_them_all():
    assert {f.name for f in fields(Variant)} == {"name", "release_lag_s", *KNOBS}
    line = Variant.from_name("laggy").describe()
    assert line.startswith("laggy (listing lag:90, hall-id product, hall-booking-id null, ")
    assert line.endswith("times utc, shapes real)")
    assert "variant='likely (" in repr(SandboxConfig(variant="likely", admin_token="t0ken"))


def test_local_z_times_write_and_read_the_wall_clock_with_a_false_z():
    at_17_in_delft = datetime(2030, 6, 5, 15, 0, tzinfo=UTC)
    local_z, utc = Timestamps("local-z", DELFT), Timestamps("utc", DELFT)
    assert utc.write(at_17_in_delft) == "2030-06-05T15:00:00.000Z"
    assert local_z.write(at_17_in_delft) == "2030-06-05T17:00:00.000Z"
    assert local_z.read("2030-06-05T17:00:00.000Z", "startDate") == at_17_in_delft.timestamp()
    # An explicit offset is converted first, then its UTC reading taken as local time.
    assert local_z.read("2030-06-05T19:00:00+02:00", "startDate") == at_17_in_delft.timestamp()
    assert utc.read("2030-06-05T17:00:00+02:00", "x") == at_17_in_delft.timestamp()
    with pytest.raises(Refusal) as bad:
        utc.read("tomorrow", "startDate")
    assert bad.value.code == "malformed_request"


def _part(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_tokens_look_like_rs256_jwts_with_subject_and_expiry():
    token = jwt_shaped({"sub": "100001", "iat": 10, "exp": 86410})
    header, payload, signature = token.split(".")
    assert json.loads(_part(header)) == {"alg": "RS256", "typ": "JWT"}
    assert json.loads(_part(payload)) == {"sub": "100001", "iat": 10, "exp": 86410}
    assert len(_part(signature)) == 256
    assert "=" not in token
