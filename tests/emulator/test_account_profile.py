"""Account settings (how the emulated account answers where the vendor's pages disagree):
the admin API, the command line and the profile file, all from profile.py's one table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nexudus_async.testing import EmulatorConfig, EmulatorProcess
from nexudus_async.testing.__main__ import build_config, parser
from nexudus_async.testing.admin import OPENAPI_PATH
from nexudus_async.testing.profile import SETTINGS, profile_of

from .admin_http import CTP, Answer, basic, call

DEFAULTS = profile_of(EmulatorConfig())


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess("--no-throttle") as process:
        yield process


def _admin(url: str, method: str, path: str, body: Any = None) -> Answer:
    return call(url, method, "/_emulator" + path, body)


def test_the_admin_api_reads_changes_and_resets_the_account_settings(
    emulator: EmulatorProcess,
) -> None:
    url = emulator.url
    assert _admin(url, "POST", "/reset").status == 204
    assert _admin(url, "GET", "/profile").json == DEFAULTS
    changed = _admin(url, "PUT", "/profile", {"not_found_body": "string", "max_page_size": 50})
    assert changed.status == 200
    assert changed.json == {**DEFAULTS, "not_found_body": "string", "max_page_size": 50}
    missing = call(url, "GET", CTP + "/999", authorization=basic())
    assert (missing.status, missing.json) == (404, "Not found")
    too_big = call(url, "GET", CTP + "?size=51", authorization=basic())
    assert too_big.status == 400
    assert too_big.json["Message"] == "size: must be less than or equal to 50"
    assert _admin(url, "POST", "/reset").status == 204
    assert _admin(url, "GET", "/profile").json == DEFAULTS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"dir_encoding": "sideways"}, 'body.dir_encoding: "sideways" is not one of "words", '),
        ({"throttle_status": 418}, "body.throttle_status: 418 is not one of 409, 429."),
        ({"unknown_enum_values": 1}, "body.unknown_enum_values: 1 is not one of false, true."),
        ({"max_page_size": 0}, "body.max_page_size: must be a whole number from 1 to 1000000"),
        ({"record_omits": "Notes"}, "body.record_omits: must be a list of at most 200 names."),
        ({"colour": "blue"}, "body.colour: not an account setting; known: throttle_status, "),
        ([], "body: must be a JSON object of account settings."),
    ],
)
def test_a_bad_setting_is_refused_naming_it(
    emulator: EmulatorProcess, body: Any, message: str
) -> None:
    answer = _admin(emulator.url, "PUT", "/profile", body)
    assert answer.status == 400
    assert answer.json["message"].startswith(message)
    assert _admin(emulator.url, "GET", "/profile").json == DEFAULTS  # nothing changed


def test_the_document_describes_every_setting_and_its_values() -> None:
    doc = json.loads(OPENAPI_PATH.read_text())
    schema = doc["components"]["schemas"]["Profile"]
    assert list(schema["properties"]) == [s.name for s in SETTINGS]
    assert schema["required"] == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        described = schema["properties"][setting.name]
        if setting.kind == "choice" and not isinstance(setting.choices[0], bool):
            assert described["enum"] == list(setting.choices), setting.name
    assert set(doc["paths"]["/_emulator/profile"]) == {"get", "put"}


def test_every_setting_is_an_option_and_a_profile_file_sets_them_too(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "tool": "nexudus-async probe",
                "profile": {
                    "dir_encoding": "zero_one",
                    "ids_forms": "id",
                    "record_omits": ["Notes"],
                },
            }
        )
    )
    args = parser().parse_args(
        [
            "--profile",
            str(report),
            "--ids-forms",
            "both",
            "--max-page-size",
            "none",
            "--ignored-filters",
            "ProductTimePass_Product, TariffTimePass_Tariff",
            "--unknown-enum-values",
            "true",
            "--throttle-status",
            "429",
        ]
    )
    config = build_config(args)
    assert profile_of(config) == {
        **DEFAULTS,
        "dir_encoding": "zero_one",
        "ids_forms": "both",  # the option wins over the file
        "record_omits": ["Notes"],
        "max_page_size": None,
        "ignored_filters": ["ProductTimePass_Product", "TariffTimePass_Tariff"],
        "unknown_enum_values": True,
        "throttle_status": 429,
    }
    helptext = parser().format_help()
    for setting in SETTINGS:
        assert setting.option in helptext


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"profile": {"put_omitted": "sometimes"}}', 'put_omitted: "sometimes" is not one of'),
        ("[1]", "must be a JSON object of account settings (or a probe report)"),
    ],
)
def test_a_bad_profile_file_is_one_line_naming_the_file(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from nexudus_async.testing.__main__ import main

    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(SystemExit) as stopped:
        main(["--profile", str(bad)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m nexudus_async.testing: error: {bad}: ")
    assert message in err and len(err.strip().splitlines()) == 1
