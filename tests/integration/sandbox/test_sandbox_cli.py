"""`snipe sandbox serve`: prints how to reach it, serves quickly, refuses unsafe options."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from snipe.cli.app import app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_prints_url_token_and_accounts_and_answers_quickly():
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "snipe", "sandbox", "serve", "--port", str(port), "--accounts", "3",
         "--admin-token", "letmein", "--clock-offset", "3600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        answer = None
        while time.perf_counter() - started < 10:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/time", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    break
                time.sleep(0.02)  # polling for the child process to come up
        assert answer is not None and answer.status_code == 200, process.stderr
        assert abs(answer.json()["offset_s"] - 3600) < 2
        state = httpx.get(f"http://127.0.0.1:{port}/api/admin/state",
                          headers={"X-Admin-Token": "letmein"})
        assert state.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in out
    assert "letmein" in out
    assert "user1/pass1" in out and "user3/pass3" in out


def test_serve_refuses_a_public_host_without_public():
    result = CliRunner().invoke(app, ["sandbox", "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2  # a usage error
    assert "--public" in result.output


def test_serve_refuses_an_unknown_bot():
    result = CliRunner().invoke(app, ["sandbox", "serve", "--bots", "turbo"])
    assert result.exit_code != 0
    assert "unknown sandbox bot 'turbo'" in str(result.exception) + result.output


@pytest.mark.parametrize(("args", "says"), [
    (["--variant", "realistic"], "unknown sandbox variant 'realistic' (known: likely, classic, "
                                 "laggy)"),
    (["--listing", "lag:soon"], "sandbox listing 'lag:soon': lag needs seconds"),
    (["--hall-id", "resource"], "unknown sandbox hall-id 'resource'"),
    (["--hall-booking-id", "0"], "unknown sandbox hall-booking-id '0'"),
    (["--errors", "json"], "unknown sandbox errors 'json'"),
    (["--search-keys", "maybe"], "unknown sandbox search-keys 'maybe'"),
    (["--joins", "some"], "unknown sandbox joins 'some'"),
    (["--waitlist", "yes"], "unknown sandbox waitlist 'yes'"),
    (["--times", "cet"], "unknown sandbox times 'cet'"),
    (["--shapes", "new"], "unknown sandbox shapes 'new'"),
])
def test_serve_refuses_a_bad_variant_value_in_one_line_with_exit_2(args, says):
    result = CliRunner().invoke(app, ["sandbox", "serve", *args])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0]


def test_serve_plays_the_variant_it_is_given_and_says_so():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "snipe", "sandbox", "serve", "--port", str(port), "--accounts", "1",
         "--admin-token", "letmein", "--variant", "likely", "--listing", "lag:30",
         "--times", "local-z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    base = f"http://127.0.0.1:{port}/api"
    try:
        state = None
        for _ in range(500):
            try:
                state = httpx.get(f"{base}/admin/state", headers={"X-Admin-Token": "letmein"})
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    break
                time.sleep(0.02)  # polling for the child process to come up
        assert state is not None and state.status_code == 200, process.stderr
        variant = state.json()["variant"]
        assert (variant["name"], variant["listing"], variant["release_lag_s"]) == (
            "likely", "lag:30", 30.0)
        assert variant["overrides"] == ["listing lag:30", "times local-z"]
        assert httpx.get(f"{base}/bookable-slots").status_code == 400  # keys are required
    finally:
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=10)
    assert "variant: likely (listing lag:30, hall-id product, hall-booking-id null" in out
