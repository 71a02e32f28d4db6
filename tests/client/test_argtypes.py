"""The argparse types both command lines share (the CLI's and the emulator's)."""

from __future__ import annotations

import argparse

import pytest

from nexudus_async._core.argtypes import positive_number


@pytest.mark.parametrize(("text", "value"), [("1", 1.0), ("0.01", 0.01), (" 2.5e-3 ", 0.0025)])
def test_a_positive_number_is_taken(text: str, value: float) -> None:
    assert positive_number(text) == value


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "-inf", "fast", ""])
def test_anything_else_is_a_usage_error_quoting_what_was_given(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        positive_number(text)
    assert str(caught.value) == f"{text!r} is not a positive number"


def test_argparse_reports_it_on_the_option() -> None:
    parser = argparse.ArgumentParser(prog="p", exit_on_error=False)
    parser.add_argument("--time-scale", type=positive_number)
    with pytest.raises(argparse.ArgumentError, match="'0' is not a positive number"):
        parser.parse_args(["--time-scale", "0"])
