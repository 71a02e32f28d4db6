"""The probe's report: text for a person, JSON for a machine (and an emulator profile).

Both pass through the auth's redaction last, so no credential reaches either
in any encoding the client knows of, whatever a check put into its evidence.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from .. import __version__
from .findings import Finding, profile_of_findings

__all__ = ["ProbeReport"]

_MARK = {"matches": "ok", "differs": "DIFFERS", "unknown": "?"}


@attrs.frozen
class ProbeReport:
    base_url: str
    user: str
    findings: Sequence[Finding]
    requests: Sequence[dict[str, Any]]
    """Every request the probe sent: method, path with query, status."""
    redact: Callable[[str], str] = attrs.field(default=lambda text: text, repr=False)

    @property
    def differs(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "differs"]

    @property
    def exit_code(self) -> int:
        return 1 if self.differs else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": "nexudus-async probe",
            "version": __version__,
            "base_url": self.base_url,
            "user": self.user,
            "result": "differs" if self.differs else "matches",
            "differences": sorted({k for f in self.findings for k in f.differences}),
            "profile": profile_of_findings(self.findings),
            "findings": [f.to_json() for f in self.findings],
            "requests": list(self.requests),
        }

    def json_text(self) -> str:
        return self.redact(json.dumps(self.to_json(), indent=2, ensure_ascii=False)) + "\n"

    def text(self) -> str:
        lines = [
            f"nexudus-async probe of {self.base_url} as {self.user}: {len(self.requests)} requests",
            "",
        ]
        for finding in self.findings:
            lines += _finding_lines(finding)
        lines.append(self._verdict())
        return self.redact("\n".join(lines)) + "\n"

    def _verdict(self) -> str:
        if not self.differs:
            unknown = [f.check for f in self.findings if f.status == "unknown"]
            tail = f" (not judged: {', '.join(unknown)})" if unknown else ""
            return f"Result: the account answers as the client assumes{tail}."
        names = ", ".join(f.check for f in self.differs)
        return (
            f"Result: the account differs in {len(self.differs)} point(s): {names}. "
            "See 'to do' above; `--json FILE` writes a profile that "
            "`nexudus-async emulator --profile FILE` runs your tests against."
        )


def _wrap(label: str, text: str) -> list[str]:
    if not text:
        return []
    return textwrap.wrap(
        text, width=96, initial_indent=f"    {label:<10}", subsequent_indent=" " * 14
    )


def _finding_lines(finding: Finding) -> list[str]:
    lines = [f"[{_MARK[finding.status]:>7}] {finding.title} ({finding.check})"]
    lines += _wrap("pages:", finding.pages)
    lines += _wrap("account:", finding.seen)
    lines += _wrap("client:", finding.client)
    if finding.status == "differs":
        changed = ", ".join(
            f"{k}={json.dumps(v)} (assumed {json.dumps(finding.expected[k])})"
            for k, v in finding.differences.items()
        )
        lines += _wrap("differs:", finding.unexpected or changed)
        if finding.unexpected and changed:
            lines += _wrap("", changed)
        lines += _wrap("to do:", finding.advice)
    lines.append("")
    return lines
