"""`snipe probe` against each variant: what it finds, what it keeps, what it records, and how
it fails. Live sandboxes for the command, recorded answers for the function."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator

import httpx
import pytest

from snipe.adapters.sites.errors import SiteUnavailable
from snipe.adapters.sites.facts import SiteFacts, load_facts
from snipe.adapters.sites.probe import Findings, ProbeFailed, probe
from snipe.adapters.sites.x import XDriver
from snipe.profiles import load_profile
from snipe.sandbox.testing import SandboxHandle, running_sandbox

from .live import BASE
from .replay import VARIANTS, RecordedSite

EXPECTED = {
    # variant: listing, hall identity of X1, hall bookingId of X1, error style
    "likely": ("early", "bookableProductId", "null", "nestjs"),
    "classic": ("at_unlock", "linkedProductId", "present", "coded"),
    "laggy": ("at_unlock", "bookableProductId", "null", "nestjs"),
}


@pytest.fixture(scope="module", params=list(EXPECTED))
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxHandle]:
    with running_sandbox(variant=request.param, accounts=2, rate_limit=0) as handle:
        handle.set_clock(now=BASE, rate=1.0)
        yield handle


def probe_json(cli, sandbox: SandboxHandle, *extra: str) -> dict:
    result = cli("probe", "--site", "sandbox", "--base-url", sandbox.base_url, "--json", *extra)
    assert result.code == 0, result.err
    return result.json()


def test_probe_names_the_listing_hall_identity_and_error_style(cli, sandbox, private_home):
    found = probe_json(cli, sandbox)
    listing, field, booking_id, errors = EXPECTED[sandbox.config.play.name]
    values = {key: item["value"] for key, item in found["findings"].items()}
    assert values["listing"] == listing
    assert values["hall_field"] == {"X1": field, "X3": field}
    assert values["hall_booking_id"] == {"X1": booking_id, "X3": booking_id}
    assert values["errors"] == errors
    assert values["times"] == "utc"
    required = "required" if errors == "nestjs" else None
    assert values["search_keys"] == (required or "ignored")
    assert values["joins"] == (required or "embedded")
    assert values["window_minutes"] == {"Fitness": 10080, "X1": 4320, "X3": 4320}
    assert all(item["evidence"] for item in found["findings"].values())
    assert found["requests"] <= load_profile("sandbox").max_requests_per_unlock_per_account


def test_probe_keeps_its_findings_as_facts_the_driver_reads(cli, sandbox, private_home):
    found = probe_json(cli, sandbox)
    path = private_home / "site-facts" / "sandbox.json"
    assert found["facts_file"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profile = load_profile("sandbox", sandbox.base_url)
    facts = XDriver(profile).facts
    assert (facts.listing, facts.errors, facts.times) == (
        EXPECTED[sandbox.config.play.name][0], EXPECTED[sandbox.config.play.name][3], "utc")
    assert facts.window_s("X1", 1.0) == 72 * 3600
    assert load_facts(load_profile("sandbox", "http://127.0.0.1:9")) is None  # another site


def test_the_table_shows_each_answer_with_its_evidence(cli, sandbox):
    result = cli("probe", "--site", "sandbox", "--base-url", sandbox.base_url)
    assert result.code == 0, result.err
    for question in ("listing", "hall identity", "error style", "time convention"):
        assert question in result.out
    assert "read-only requests" in result.out and "Facts kept in" in result.out


def test_recorded_answers_carry_no_token_or_personal_data(cli, sandbox, tmp_path):
    added = cli("accounts", "add", "user1", "--site", "sandbox", "--site-url", sandbox.base_url,
                "--password-stdin", "--no-check", stdin="pass1\n")
    assert added.code == 0, added.err
    found = probe_json(cli, sandbox, "--record", str(tmp_path / "answers"), "--login", "user1")
    assert found["account"] == "user1" and "booking_joins" in found["findings"]
    assert found["logins"] == 1
    files = sorted((tmp_path / "answers").glob("*.json"))
    assert len(files) == found["requests"]
    member = sandbox.login("user1", "pass1")[1]
    for path in files:
        text = path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "pass1" not in text and "Bearer" not in text and str(member) not in text, text
        json.loads(text)


@pytest.mark.parametrize("variant", VARIANTS)
async def test_probe_reads_each_recorded_variant(variant):
    site = RecordedSite(variant)
    profile = load_profile("sandbox", "http://site.test")
    findings = await probe(profile, transport=site.transport)
    knobs = site.knobs
    assert findings.get("listing") == ("early" if knobs["listing"] == "early" else "at_unlock")
    assert findings.get("times") == knobs["times"]
    field = "bookableProductId" if knobs["hall_id"] == "product" else "linkedProductId"
    assert findings.get("hall_field")["X1"] == field
    assert findings.get("errors") == knobs["errors"]


def test_findings_say_what_changed_since_the_last_probe():
    before = SiteFacts("sandbox", "http://x/api", listing="early", errors="nestjs",
                       hall_field={"X1": "bookableProductId"})
    now = Findings("sandbox", "http://x/api", "2030-01-01T00:00:00Z")
    from snipe.adapters.sites.probe_reading import Finding

    now.items = [Finding("listing", "at_unlock", "..."), Finding("errors", "nestjs", "..."),
                 Finding("hall_field", {"X1": "linkedProductId"}, "...")]
    assert now.diff(before) == ["listing changed from early to at_unlock",
                                "hall_field of X1 changed from bookableProductId to "
                                "linkedProductId"]
    assert now.diff(None) == [] and now.diff(now) == []


def test_bad_input_is_one_line_and_a_usage_exit(cli):
    unknown = cli("probe", "--site", "nowhere", "--json")
    assert unknown.code == 2 and "unknown site profile 'nowhere'" in unknown.err
    bad_url = cli("probe", "--site", "sandbox", "--base-url", "localhost:8787")
    assert bad_url.code == 2 and "--base-url" in bad_url.err
    for result in (unknown, bad_url):
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_an_unreachable_site_is_one_line(cli, private_home):
    result = cli("probe", "--site", "sandbox", "--base-url", "http://127.0.0.1:9")
    assert result.code == 1 and "cannot reach http://127.0.0.1:9/api" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (private_home / "site-facts").exists()


def test_garbage_answers_are_one_line(cli, private_home):
    with running_sandbox(accounts=1) as handle:
        handle.faults("garbage", path_prefix="/api/", count=50)
        result = cli("probe", "--site", "sandbox", "--base-url", handle.base_url)
    assert result.code == 1 and "cannot read the slot list" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


async def test_a_site_that_times_out_is_unavailable():
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    profile = load_profile("sandbox", "http://site.test")
    with pytest.raises(SiteUnavailable, match="within 0.5s"):
        await probe(profile, transport=httpx.MockTransport(hang), timeout_s=0.5)


async def test_a_site_that_is_not_delcom_fails_the_probe():
    profile = load_profile("sandbox", "http://site.test")
    transport = httpx.MockTransport(lambda r: httpx.Response(200, text="<html>hello</html>"))
    with pytest.raises(ProbeFailed, match="cannot read the slot list"):
        await probe(profile, transport=transport)
