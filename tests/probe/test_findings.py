"""Findings and the report, without a server: statuses, the profile, redaction."""

from __future__ import annotations

import json

from nexudus_async import PasswordGrant
from nexudus_async.probe import EXPECTED, Finding, ProbeReport
from nexudus_async.probe.findings import profile_of_findings
from nexudus_async.probe.reads import Check
from nexudus_async.probe.run import _run_check


def _finding(**kw: object) -> Finding:
    return Finding("c", "Title", "pages", "seen", "client", **kw)  # type: ignore[arg-type]


def test_status_is_differs_when_one_observed_setting_is_not_the_assumed_one() -> None:
    assert _finding(observed={"dir_encoding": "words"}).status == "matches"
    assert _finding(observed={"dir_encoding": "zero_one"}).status == "differs"
    assert _finding(observed={"record_omits": ["B", "A"]}).differences == {
        "record_omits": ["B", "A"]
    }
    assert _finding(observed={"ignored_filters": []}).status == "matches"
    assert _finding(inconclusive=True).status == "unknown"
    assert _finding(unexpected="2 passes left").status == "differs"


def test_the_profile_is_the_defaults_with_what_was_observed_and_not_the_unknown() -> None:
    findings = [
        _finding(observed={"dir_encoding": "zero_one"}),
        _finding(observed={"throttle_status": 429}, inconclusive=True),
    ]
    assert profile_of_findings(findings) == {**EXPECTED, "dir_encoding": "zero_one"}


def test_the_report_redacts_every_credential_and_exits_by_the_differences() -> None:
    auth = PasswordGrant("user@example.com", "s3cret pass/word")
    leaky = _finding(observed={"not_found_body": "string"}, evidence={"body": "s3cret pass/word"})
    report = ProbeReport("https://x", "user@example.com", [leaky], [], redact=auth.redact)
    assert report.exit_code == 1
    for text in (report.text(), report.json_text()):
        assert "s3cret" not in text and "s3cret+pass%2Fword" not in text
    data = json.loads(report.json_text())
    assert data["differences"] == ["not_found_body"]
    assert data["findings"][0]["advice"] == ""  # only findings that differ and say what to do
    clean = ProbeReport("https://x", "u", [_finding(observed={"put_omitted": "clear"})], [])
    assert clean.exit_code == 0
    assert clean.text().endswith("Result: the account answers as the client assumes.\n")


async def test_a_check_that_cannot_read_an_answer_is_unknown_not_a_crash() -> None:
    async def broken(_ctx: object) -> Finding:
        raise KeyError("Records")

    finding = await _run_check(Check("dir", broken), None)  # type: ignore[arg-type]
    assert finding.status == "unknown"
    assert finding.seen == "could not read the account's answers (KeyError: 'Records')"
