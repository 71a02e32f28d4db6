"""What a probe check found, and the account profile the findings add up to.

A finding names the emulator account settings it observed (``observed``, in
the values of :mod:`nexudus_async.testing.profile`) next to what the client
and the emulator assume (``expected``, the emulator's defaults). It
*differs* when one observed value is not the expected one; it is *unknown*
when the account gave nothing to judge by (no records, no throttled answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

__all__ = ["EXPECTED", "Finding", "Status", "profile_of_findings"]

Status = Literal["matches", "differs", "unknown"]

#: What the client assumes: the documented answer (the observed one where only
#: that is known). These are the emulator's default account settings; a test
#: keeps the two equal.
EXPECTED: Mapping[str, Any] = {
    "throttle_status": 409,
    "dir_encoding": "words",
    # not probed (it needs records a minute apart): the documented precision
    "range_precision": "minute",
    "max_page_size": 1000,
    "oversize_page": "refuse",
    "ids_forms": "both",
    "ids_answer": "by_form",
    "not_found_body": "envelope",
    "ignored_filters": [],
    "record_omits": [],
    "record_extras": [],
    "unknown_enum_values": False,
    "token_json_body": "refused",
    "create_multiple_system_id": "all",
    "create_multiple_answer_id": "first",
    "offset_dates": "shift",
    "put_omitted": "clear",
}


@attrs.frozen
class Finding:
    """One point of the report."""

    check: str
    """The check's name (``page_size``)."""
    title: str
    pages: str
    """What the vendor's pages say."""
    seen: str
    """What the account did, in words."""
    client: str
    """Whether (and how) the client copes with what was seen."""
    observed: Mapping[str, Any] = attrs.field(factory=dict)
    """Account settings observed (the emulator's names and values)."""
    advice: str = ""
    """What to do when it differs."""
    evidence: Mapping[str, Any] = attrs.field(factory=dict)
    """Status codes, headers, bodies (credentials removed), for the JSON report."""
    inconclusive: bool = False
    """Nothing to judge by: the finding neither matches nor differs."""
    unexpected: str = ""
    """A difference no account setting describes (a write step failed, a pass was left)."""

    @property
    def expected(self) -> dict[str, Any]:
        return {name: EXPECTED[name] for name in self.observed}

    @property
    def differences(self) -> dict[str, Any]:
        """The observed settings that are not what the client assumes."""
        return {k: v for k, v in self.observed.items() if _norm(v) != _norm(EXPECTED[k])}

    @property
    def status(self) -> Status:
        if self.unexpected or self.differences:
            return "differs"
        return "unknown" if self.inconclusive else "matches"

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": self.title,
            "status": self.status,
            "pages_say": self.pages,
            "account_did": self.seen,
            "client": self.client,
            "observed": dict(self.observed),
            "expected": self.expected,
            "unexpected": self.unexpected,
            "advice": self.advice if self.status == "differs" else "",
            "evidence": dict(self.evidence),
        }


def _norm(value: Any) -> Any:
    return sorted(value) if isinstance(value, list | tuple) else value


def profile_of_findings(findings: Iterable[Finding]) -> dict[str, Any]:
    """The emulator profile the findings describe: defaults, with every observed value."""
    profile = {k: (list(v) if isinstance(v, list) else v) for k, v in EXPECTED.items()}
    for finding in findings:
        if not finding.inconclusive:
            for name, value in finding.observed.items():
                profile[name] = list(value) if isinstance(value, tuple) else value
    return profile
