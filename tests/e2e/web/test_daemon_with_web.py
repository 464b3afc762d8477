"""`snipe daemon --web PORT`: one process serves the dashboard beside the daemon, its live stream
the daemon's own events, and both stop together on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from .conftest import START_BOUND_S, _free_port

pytestmark = pytest.mark.slow


def _monitor(url: str) -> dict | None:
    try:
        response = httpx.get(url + "/api/monitor", timeout=1.0)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def test_the_daemon_serves_the_dashboard_and_its_events(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNIPE_")}
    env["SNIPE_HOME"] = str(tmp_path / "home")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "snipe", "daemon", "--web", str(port), "--monitor-interval", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_BOUND_S
        board = None
        while time.monotonic() < deadline and process.poll() is None:
            board = _monitor(url)
            if board and board["daemon"]["running"]:
                break
            time.sleep(0.1)
        assert board and board["daemon"]["running"], process.stderr.read1().decode()
        # The daemon said it runs before anyone listened: a client asking from the start
        # gets it first.
        with httpx.stream("GET", url + "/api/events", headers={"Last-Event-ID": "0"},
                          timeout=START_BOUND_S) as stream:
            data = next(line for line in stream.iter_lines() if line.startswith("data: "))
        event = json.loads(data.removeprefix("data: "))
        assert (event["kind"], event["state"]) == ("daemon", "running")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=START_BOUND_S)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0
