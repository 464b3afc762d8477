"""Three processes starting together on a fresh data dir each seal a secret: one key file is
made, and every secret opens with it (60 rounds)."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from snipe.adapters.secrets import Vault

ROUNDS = 60
PROCESSES = 3


def seal_each_round(base: str, worker: int, barrier, out) -> None:  # type: ignore[no-untyped-def]
    for n in range(ROUNDS):
        barrier.wait()  # all three at the same instant, on a data dir with no key yet
        home = Path(base) / f"round-{n}"
        try:
            out.put((n, worker, Vault.load(home).seal(f"secret-{n}-{worker}")))
        except Exception as exc:  # reported to the test, never lost
            out.put((n, worker, repr(exc)))


def test_no_secret_is_ever_sealed_with_a_key_that_is_then_replaced(tmp_path, monkeypatch):
    monkeypatch.delenv("SNIPE_KEY_FILE", raising=False)
    context = mp.get_context("fork")
    barrier, out = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=seal_each_round, args=(str(tmp_path), w, barrier, out))
               for w in range(PROCESSES)]
    for w in workers:
        w.start()
    sealed = [out.get(timeout=120) for _ in range(ROUNDS * PROCESSES)]
    for w in workers:
        w.join(timeout=30)
    failures = [s for s in sealed if isinstance(s[2], str)]
    assert failures == []
    for n, worker, token in sealed:
        vault = Vault.load(tmp_path / f"round-{n}", create=False)
        assert vault.open_sealed(token) == f"secret-{n}-{worker}".encode()
    assert all(len(list((tmp_path / f"round-{n}").glob("secret.key*"))) == 1
               for n in range(ROUNDS))  # no temp file left behind
