"""One probe run: connect, run the selected checks in the table's order, write checks last."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
import attrs

from .._core.auth import Auth
from .._core.throttle import RateLimiter, RateLimits
from ..client import NexudusClient
from .context import ProbeContext
from .findings import Finding
from .http import ProbeHttp, request_log
from .reads import READ_CHECKS, Check
from .report import ProbeReport
from .writes import WriteTargets, run_writes

__all__ = ["CHECK_NAMES", "ProbeOptions", "run_probe"]

CHECK_NAMES: tuple[str, ...] = tuple(c.name for c in READ_CHECKS)


@attrs.frozen(repr=False)
class ProbeOptions:
    base_url: str
    auth: Auth
    user: str
    limits: RateLimits
    #: (email, password) for the token endpoint's checks; None with a bearer token.
    credentials: tuple[str, str] | None = None
    write: WriteTargets | None = None
    #: The read checks to run (None: all of them).
    checks: Sequence[str] | None = None
    insecure_http: bool = False

    def __repr__(self) -> str:  # never the auth's secrets
        return f"ProbeOptions({self.base_url!r}, user={self.user!r})"


async def _run_check(check: Check, ctx: ProbeContext) -> Finding:
    """The check's finding; an answer it cannot read makes it unknown, not the run fail."""
    try:
        return await check.run(ctx)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return Finding(
            check.name,
            check.name,
            "",
            f"could not read the account's answers ({type(exc).__name__}: {exc})",
            "",
            inconclusive=True,
        )


async def run_probe(options: ProbeOptions) -> ProbeReport:
    """Run the probe; raises the client's errors for a refused login or an unreachable host."""
    limiter = RateLimiter(options.limits)
    timeout = aiohttp.ClientTimeout(total=None)
    exchanges: list[dict[str, Any]] = []
    traces = [request_log(exchanges)]
    async with aiohttp.ClientSession(timeout=timeout, trace_configs=traces) as session:
        http = ProbeHttp(session, options.base_url, options.auth, limiter)
        ctx = ProbeContext(http, options.credentials)
        findings: list[Finding] = []
        client = NexudusClient(
            options.base_url,
            options.auth,
            session=session,
            rate_limiter=limiter,
            allow_insecure_http=options.insecure_http,
        )
        async with client:
            for check in READ_CHECKS:
                if options.checks is None or check.name in options.checks:
                    findings.append(await _run_check(check, ctx))
            if options.write is not None:
                findings += await run_writes(ctx, client, options.write)
    return ProbeReport(
        options.base_url, options.user, findings, exchanges, redact=options.auth.redact
    )
