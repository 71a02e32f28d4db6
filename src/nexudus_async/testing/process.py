"""The emulator in its own process, and a small synchronous client of its admin API.

For tests whose code under test runs in other processes (a web app under
uvicorn, workers, a benchmark's children)::

    with EmulatorProcess("--time-scale", "0.01") as emu:
        emu.url                      # "http://127.0.0.1:PORT"
        emu.admin.add_user("reader@example.com", "pw", ["CoworkerTimePass-List"])
        emu.admin.stats()["by_status"]

The client uses only the standard library (urllib) and blocks: each call is
one short local HTTP request, harmless inside an async test too.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._core.decimals import json_dumps, json_loads
from .config import FULL_ADMIN_ROLE

__all__ = ["AdminClient", "AdminClientError", "EmulatorProcess"]

_ANNOUNCE = "Nexudus emulator listening on "


class AdminClientError(Exception):
    """The admin API refused: ``status`` and its ``{"error", "message"}`` body."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{status}: {message}")
        self.status = status
        self.body = body


class AdminClient:
    """Every ``/_emulator/`` operation as a method; answers are the decoded JSON."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        # Imported here: the pytest plugin loads this module in every user's test run.
        import urllib.error
        import urllib.request

        data = None if body is None else json_dumps(body).encode()
        req = urllib.request.Request(self.base_url + "/_emulator" + path, data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                decoded: Any = json_loads(raw)
            except ValueError:
                decoded = raw.decode("utf-8", "replace")
            raise AdminClientError(exc.code, decoded) from None
        return json_loads(raw) if raw else None  # money as Decimal

    # -------------------------------------------------------------- service
    def health(self) -> bool:
        try:
            return bool(self.request("GET", "/health") == {"status": "ok"})
        except (OSError, AdminClientError):
            return False

    def reset(self) -> None:
        self.request("POST", "/reset")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/stats")
        return result

    def journal(self, limit: int | None = None) -> list[dict[str, Any]]:
        query = f"?limit={limit}" if limit is not None else ""
        entries: list[dict[str, Any]] = self.request("GET", "/journal" + query)["entries"]
        return entries

    # ----------------------------------------------------- faults and limits
    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/faults")
        return result

    def set_faults(self, rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """``[{"kind": "error500", "method": "POST", "path": "/api/billing/*"}]``."""
        result: list[dict[str, Any]] = self.request("PUT", "/faults", [dict(r) for r in rules])
        return result

    def clear_faults(self) -> None:
        self.request("DELETE", "/faults")

    def limits(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/limits")
        return result

    def set_limits(self, **limits: Any) -> dict[str, Any]:
        """Omitted limits take the published default; ``None`` switches one off."""
        result: dict[str, Any] = self.request("PUT", "/limits", limits)
        return result

    def settings(self) -> dict[str, Any]:
        """The account settings (``GET /_emulator/profile``: every one of profile.py's)."""
        result: dict[str, Any] = self.request("GET", "/profile")
        return result

    def set_settings(self, **settings: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.request("PUT", "/profile", settings)
        return result

    def time_scale(self) -> float:
        return float(self.request("GET", "/time-scale")["time_scale"])

    def set_time_scale(self, time_scale: float) -> None:
        self.request("PUT", "/time-scale", {"time_scale": time_scale})

    # ------------------------------------------------------- users, tokens
    def users(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/users")
        return result

    def add_user(
        self,
        email: str,
        password: str,
        roles: Sequence[str] = (FULL_ADMIN_ROLE,),
        totp: str | None = None,
    ) -> dict[str, Any]:
        body = {"email": email, "password": password, "roles": list(roles), "totp": totp}
        result: dict[str, Any] = self.request("POST", "/users", body)
        return result

    def expire_tokens(self) -> None:
        self.request("POST", "/tokens/expire")

    # --------------------------------------------------------------- store
    def counts(self) -> dict[str, int]:
        result: dict[str, int] = self.request("GET", "/records")
        return result

    def records(self, collection: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/records/{collection}")
        return result

    def record(self, collection: str, record_id: int) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self.request("GET", f"/records/{collection}/{record_id}")
        except AdminClientError as exc:
            if exc.status == 404:
                return None
            raise
        return result

    def seed(self, collection: str, *records: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Insert records (no API validation beyond types); returns them as stored."""
        result: list[dict[str, Any]] = self.request(
            "POST", f"/records/{collection}", [dict(r) for r in records]
        )
        return result


class EmulatorProcess:
    """``python -m nexudus_async.testing --host 127.0.0.1 --port 0 *args`` in a child process.

    ``start()`` waits (bounded by ``startup_timeout``) for the URL line;
    ``stop()`` sends SIGTERM, waits ``stop_timeout``, then kills.
    """

    def __init__(
        self,
        *args: str,
        admin_token: str | None = None,
        python: str = sys.executable,
        startup_timeout: float = 15.0,
        stop_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.args = ("--host", "127.0.0.1", "--port", "0", *args)
        if admin_token is not None:
            self.args += ("--admin-token", admin_token)
        self.admin_token = admin_token
        self._python = python
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._env = dict(os.environ if env is None else env)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None
        self._url: str | None = None
        self._last_output = ""

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the emulator process is not running")
        return self._url

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url, self.admin_token)

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def output(self) -> str:
        """Everything the child printed so far (stdout and stderr)."""
        if self._log is None or not self._log.exists():
            return self._last_output
        return self._log.read_text(encoding="utf-8", errors="replace")

    def start(self) -> EmulatorProcess:
        if self._proc is not None:
            return self
        fd, name = tempfile.mkstemp(prefix="nexudus-emulator-", suffix=".log")
        self._log = Path(name)
        with os.fdopen(fd, "wb") as out:
            self._proc = subprocess.Popen(
                [self._python, "-m", "nexudus_async.testing", *self.args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
            )
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline and self._proc.poll() is None:
            first = self.output().partition("\n")
            if first[1] and first[0].startswith(_ANNOUNCE):
                self._url = first[0].rsplit(" ", 1)[1]
                return self
            time.sleep(0.02)
        text = self.output()
        self.stop()
        raise RuntimeError(f"the emulator process did not start:\n{text[-3000:]}")

    def stop(self) -> int | None:
        """Stop the child (bounded waits); returns its exit status."""
        proc, self._proc = self._proc, None
        self._url = None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
            try:
                code = proc.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait(timeout=self._stop_timeout)
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._last_output = self._log.read_text(encoding="utf-8", errors="replace")
                self._log.unlink()
            self._log = None
        return code

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<EmulatorProcess {self._url or 'not running'}>"
