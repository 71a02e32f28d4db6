"""Teach the pinned openapi-python-client that ``format: decimal`` is money: ``Decimal``.

0.29.1 maps every ``type: number`` to ``float`` (a binary float: ``12.30``
becomes ``12.300000000000001`` at worst), and which Python type a property has
is decided in its parser classes, which no template can reach. So
:func:`install` wraps its ``property_from_data`` (where the generator's own
modules look it up) to build a :class:`DecimalProperty` for a number schema
with ``format: decimal``: models, endpoint parameters and docstrings all say
``Decimal``, and import it. The generator is pinned exactly (generate.py), so
this private seam cannot move under us unnoticed: ``make check-generated``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from attrs import define
from openapi_python_client import schema as oai
from openapi_python_client.parser import bodies, openapi, properties, responses
from openapi_python_client.parser.errors import PropertyError
from openapi_python_client.parser.properties.float import FloatProperty
from openapi_python_client.parser.properties.protocol import Value
from openapi_python_client.strings import PythonCode, PythonIdentifier

__all__ = ["DecimalProperty", "install"]


@define
class DecimalProperty(FloatProperty):
    """A ``number`` with ``format: decimal``: a ``decimal.Decimal``."""

    _type_string: ClassVar[str] = "Decimal"
    _json_type_string: ClassVar[str] = "Decimal"

    @classmethod
    def convert_value(cls, value: Any) -> Value | PropertyError | None:
        if isinstance(value, Value) or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return PropertyError(f"Cannot convert {value} to a Decimal")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return PropertyError(f"Invalid decimal value: {value}")
        return Value(python_code=PythonCode(f'Decimal("{number}")'), raw_value=value)

    def get_imports(self, *, prefix: str) -> set[str]:
        imports = super().get_imports(prefix=prefix)
        imports.add("from decimal import Decimal")
        return imports


def _is_decimal(data: Any) -> bool:
    return (
        isinstance(data, oai.Schema)
        and data.type == oai.DataType.NUMBER
        and data.schema_format == "decimal"
        and data.enum is None
        and data.const is None
    )


def install() -> None:
    """Make ``format: decimal`` numbers :class:`DecimalProperty` in this process (idempotent)."""
    original: Callable[..., Any] = properties.property_from_data
    if getattr(original, "_nexudus_decimal", False):
        return

    def property_from_data(**kwargs: Any) -> Any:
        data = kwargs["data"]
        if not _is_decimal(data):
            return original(**kwargs)
        name = kwargs["name"]
        prop = DecimalProperty.build(
            name=name,
            required=kwargs["required"],
            default=data.default,
            python_name=PythonIdentifier(value=name, prefix=kwargs["config"].field_prefix),
            description=data.description,
            example=data.example,
        )
        return prop, kwargs["schemas"]

    property_from_data._nexudus_decimal = True  # type: ignore[attr-defined]
    for module in (properties, bodies, openapi, responses):
        module.property_from_data = property_from_data  # type: ignore[attr-defined]
