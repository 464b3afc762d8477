"""Getting a strike's accounts ready before its instant: a session and an open connection each."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from snipe.adapters.sites.errors import LoginFailed
from snipe.domain.decision import Strike
from snipe.domain.ledger import ERROR, Attempt
from snipe.domain.records import TargetRecord
from snipe.errors import SnipeError, TransientError
from snipe.services.booking.outcomes import AttemptResult, cause_of
from snipe.services.context import AccountQuarantined, Context, account_of, quarantine

log = logging.getLogger(__name__)


async def warm_accounts(ctx: Context, target: TargetRecord, driver: Any, strike: Strike
                        ) -> tuple[list[Attempt], list[AttemptResult]]:
    """Log in (or reuse the day's session) and open a connection for every account of the
    strike, a few logins at once; a transient failure (e.g. a kept-alive connection the site
    just dropped) is tried once more. A refused password sets the account aside (one
    notification); an unreachable site is said as such. Returns the attempts that can fire,
    and the results of those that cannot."""
    accounts = list(dict.fromkeys(a.account for a in strike.attempts))

    async def warm(netid: str) -> None:
        creds = account_of(ctx, netid)[1]
        try:
            await driver.warm(creds)
        except TransientError:
            await driver.warm(creds)

    outcomes = await asyncio.gather(*(warm(n) for n in accounts), return_exceptions=True)
    unusable: dict[str, str] = {}
    for netid, outcome in zip(accounts, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if isinstance(outcome, LoginFailed):
                quarantine(ctx, netid, str(outcome), target.name)
            elif not isinstance(outcome, (SnipeError, AccountQuarantined)):
                raise outcome
            unusable[netid] = cause_of(outcome)
            log.warning("account %s not ready for the strike: %s", netid, outcome)
    ready = [a for a in strike.attempts if a.account not in unusable]
    refused = [AttemptResult(a, ERROR, message=unusable[a.account])
               for a in strike.attempts if a.account in unusable]
    return ready, refused
