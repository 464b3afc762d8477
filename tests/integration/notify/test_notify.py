"""Notifications reach a local apprise `json://` endpoint, say little, and never leak secrets."""

from __future__ import annotations

import json
import stat

import pytest

from base_time import NOW
from snipe.adapters.notify import (
    BLOCK_COMPLETED,
    DAEMON_DIED,
    EVENT_KINDS,
    TEST,
    AppriseNotifier,
    CombinedNotifier,
    Event,
    NotifySettings,
    SilentNotifier,
    effective_settings,
    last_gasp,
    load_notify_settings,
    notifier_for,
    redact,
    save_notify_settings,
)

AT = NOW


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_event_kind_is_delivered_to_the_endpoint(endpoint, kind):
    notifier = AppriseNotifier(NotifySettings((endpoint.url(),)))
    notifier.send(Event(kind, f"something about {kind}", at=AT, target="thursday-x1"))
    assert len(endpoint.received) == 1
    got = endpoint.received[0]
    assert got["title"].startswith("snipe: ")
    assert got["message"] == f"thursday-x1: something about {kind}"
    assert got["_path"] == "/hook"


def test_events_filter_keeps_only_the_chosen_kinds_but_always_tests(endpoint):
    notifier = AppriseNotifier(NotifySettings((endpoint.url(),), events=(BLOCK_COMPLETED,)))
    notifier.send(Event("booking_won", "won one hour"))
    notifier.send(Event(BLOCK_COMPLETED, "X1 14:00-17:00 is yours"))
    notifier.send(Event(TEST, "hello"))
    assert [r["message"] for r in endpoint.received] == ["X1 14:00-17:00 is yours", "hello"]


def test_secrets_are_redacted_from_messages(endpoint):
    url = endpoint.url("tok3nTOK3Ntok3n")
    notifier = AppriseNotifier(NotifySettings((url,)), secrets=["hunter22"])
    notifier.send(Event(
        "login_failing",
        "login of user1 failed with password hunter22 via https://bob:pa55w0rd@idp.example/x "
        f"token=abc123secret Bearer eyJhbGciOiJIUzI1NiJ9.payload and {url}"))
    message = endpoint.received[0]["message"]
    for leaked in ("hunter22", "pa55w0rd", "abc123secret", "eyJhbGciOiJIUzI1NiJ9", "tok3nTOK3N"):
        assert leaked not in message
    assert "user1" in message and "***" in message


def test_apprises_own_debug_lines_never_print_a_url_token(endpoint, caplog):
    import logging

    url = endpoint.url("s3cr3tT0k3nInThePath")
    caplog.set_level(logging.DEBUG)  # what --debug does
    AppriseNotifier(NotifySettings((url,))).send(Event("booking_won", "won one hour"))
    assert endpoint.received, "delivered"
    assert any(r.name == "apprise" and "JSON POST URL" in r.getMessage()
               for r in caplog.records)  # the lines are there, without the token
    assert "s3cr3tT0k3nInThePath" not in caplog.text


def test_redact_leaves_ordinary_text_alone():
    assert redact("booked X1 A on 2026-11-26 14:00 in 84 ms", ["x"]) == \
        "booked X1 A on 2026-11-26 14:00 in 84 ms"


def test_a_dead_endpoint_is_logged_not_raised(endpoint, caplog):
    endpoint.fail_next = 1
    notifier = AppriseNotifier(NotifySettings((endpoint.url(), "json://127.0.0.1:1/nothing")))
    delivery = notifier.deliver(Event(TEST, "hello"))
    assert delivery.sent == 0 and delivery.failed == ["json://***", "json://***"]
    assert "not delivered" in caplog.text
    notifier.send(Event(TEST, "again"))  # the endpoint is back: no exception, delivered
    assert [r["message"] for r in endpoint.received] == ["again"]


def test_silent_by_default_and_combined_survives_a_broken_notifier(endpoint):
    assert isinstance(notifier_for(NotifySettings()), SilentNotifier)

    class Broken:
        def send(self, event: Event) -> None:
            raise RuntimeError("boom")

    combined = CombinedNotifier([Broken(), notifier_for(NotifySettings((endpoint.url(),)))])
    combined.send(Event("booking_won", "X1 A 14:00 for user2"))
    assert [r["message"] for r in endpoint.received] == ["X1 A 14:00 for user2"]


def test_last_gasp_tells_the_user_when_the_daemon_dies(endpoint):
    notifier = AppriseNotifier(NotifySettings((endpoint.url(),), events=(DAEMON_DIED,)))
    with pytest.raises(RuntimeError), last_gasp(notifier):
        raise RuntimeError("database is locked")
    with last_gasp(notifier):
        pass  # a clean exit says nothing
    with pytest.raises(KeyboardInterrupt), last_gasp(notifier):
        raise KeyboardInterrupt
    assert len(endpoint.received) == 1
    message = endpoint.received[0]["message"]
    assert "RuntimeError: database is locked" in message and "restarted" in message
    assert endpoint.received[0]["title"] == "snipe: daemon stopped on an error"


def test_settings_are_saved_sealed_private_and_merged_with_the_environment(home):
    settings = NotifySettings(("tgram://123456:ABCDEFsecret/987",), events=(BLOCK_COMPLETED,))
    path = save_notify_settings(home, settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"ABCDEFsecret" not in path.read_bytes()
    assert load_notify_settings(home) == settings
    merged = effective_settings(home, {"SNIPE_NOTIFY_URLS": " ntfy://topic1 , ,json://h/x"})
    assert merged.urls == ("tgram://123456:ABCDEFsecret/987", "ntfy://topic1", "json://h/x")
    assert merged.events == (BLOCK_COMPLETED,)
    assert "ABCDEFsecret" not in repr(merged)


def test_no_saved_settings_means_silence(home):
    assert load_notify_settings(home) == NotifySettings()


def test_cli_notify_test_sends_one_message(snipe, endpoint, monkeypatch):
    monkeypatch.setenv("SNIPE_NOTIFY_URLS", endpoint.url())
    result = snipe("notify", "test")
    assert result.code == 0, result.err
    assert "delivered to 1 URL" in result.out
    assert len(endpoint.received) == 1 and endpoint.received[0]["title"] == \
        "snipe: test notification"


def test_cli_notify_test_reports_undelivered_urls_in_one_line(snipe, endpoint):
    endpoint.fail_next = 1
    result = snipe("notify", "test", "--url", endpoint.url("s3cr3tpath1"), "--json")
    assert result.code == 1
    assert json.loads(result.out) == {"sent": 0, "failed": ["json://***"]}
    assert result.err.count("\n") == 1 and "not delivered to json://***" in result.err
    assert "s3cr3tpath1" not in result.err + result.out


def test_cli_notify_test_without_urls_says_how_to_add_them(snipe):
    result = snipe("notify", "test")
    assert result.code == 1 and "no notification URLs configured" in result.err


def test_cli_notify_list_hides_tokens(snipe, home):
    save_notify_settings(home, NotifySettings(("tgram://123456:ABCDEFsecret/987",)))
    result = snipe("notify", "list", "--json")
    assert result.code == 0
    assert result.json() == {"urls": ["tgram://***"], "events": list(EVENT_KINDS)}


def test_bookings_file_rejects_unknown_events_and_non_urls(tmp_path):
    from snipe.config import load_bookings
    from snipe.errors import ConfigError

    src = json.loads((__import__("pathlib").Path(__file__).parents[3]
                      / "bookings.example.json").read_text())
    src["notifications"] = {"urls": ["my-secret-token"], "events": ["booking_won", "oops"]}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(src))
    with pytest.raises(ConfigError) as caught:
        load_bookings(path, AT)
    problems = dict(caught.value.problems)
    assert "apprise URL" in problems["$.notifications.urls"]
    assert "'oops'" in problems["$.notifications.events"]
    assert "my-secret-token" not in str(caught.value.problems)
