"""Decimals within the API's range: .NET's ``decimal`` (28 significant digits, 28 places)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

DOTNET_MAX = Decimal("79228162514264337593543950335")


def _decimal(sign: int, digits: int, places: int) -> Decimal:
    return Decimal((sign, tuple(int(d) for d in str(digits)), -places))


api_decimals = st.builds(
    _decimal,
    st.sampled_from([0, 1]),
    st.integers(0, 10**28 - 1),
    st.integers(0, 28),
)
"""Any value .NET's decimal holds with up to 28 digits: trailing zeros (``12.30``) kept."""
