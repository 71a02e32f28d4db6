"""The documented example answers, parsed by the generated endpoints."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from aioresponses import aioresponses

from nexudus_async._core.wire import UNSET, unstructure
from nexudus_async._generated import Client
from nexudus_async._generated.api.coworker_time_passes import (
    create_coworker_time_pass,
    delete_coworker_time_pass,
    get_coworker_time_pass,
    list_coworker_time_pass_commands,
    list_coworker_time_passes,
    run_coworker_time_pass_command,
    update_coworker_time_pass,
)
from nexudus_async._generated.api.product_time_passes import get_product_time_pass
from nexudus_async._generated.api.token import create_token
from nexudus_async._generated.models import (
    ActionResult,
    Command,
    CoworkerTimePass,
    CoworkerTimePassCreate,
    CoworkerTimePassListItem,
    CoworkerTimePassPage,
    CoworkerTimePassUpdate,
    ErrorEnvelope,
    ExpirationType,
    ProductTimePass,
    RunCommandRequest,
    TokenRequest,
    TokenRequestGrantType,
    TokenResponse,
)

from .conftest import answer, fixture_json

CREATE = CoworkerTimePassCreate(coworker_id=1, business_id=2, time_pass_id=3, create_multiple=1)
UPDATE = CoworkerTimePassUpdate(
    id=1, coworker_id=1, business_id=2, time_pass_id=3, create_multiple=1
)


def assert_round_trips(model: Any, fixture: str) -> None:
    """Model -> JSON gives back the documented object: same keys, same values, same date text."""
    assert unstructure(model) == fixture_json(fixture)


async def test_single_record(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "GET", "coworker_time_pass.json")
    response = await get_coworker_time_pass.asyncio_detailed(1234567, client=client)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    tp = response.parsed
    assert isinstance(tp, CoworkerTimePass)
    assert tp.id == 1234567
    assert tp.business_id == 12345678
    assert tp.coworker_id == 12345678
    assert tp.time_pass_id == 12345678
    assert tp.checked_in is False
    assert tp.free is False
    assert tp.notes == "Notes"
    # documented as empty: null, not "not sent"
    assert tp.price is None
    assert tp.expire_date is None
    assert tp.coworker_product_unique_id is None
    assert tp.create_multiple is None
    # absent from the answer: UNSET
    assert tp.purchase_order is UNSET
    assert tp.is_pay_as_you_go is UNSET
    assert tp.created_on == datetime.datetime(2018, 7, 3, 6, 23, 1)  # wall clock, naive
    assert tp.created_on.tzinfo is None
    assert tp.updated_on == datetime.datetime(2020, 1, 1, 21, 57, 21)
    assert tp.updated_by == "System"
    assert tp.unique_id == uuid.UUID("4bf6f8b5-9763-4f32-8408-52872c134b11")
    assert tp.system_id == "{ metadata: { id: 887766, processed: true } }"
    assert tp.additional_properties == {}
    data = unstructure(tp)
    assert data["CreatedOn"] == "2018-07-03T06:23:01Z"
    assert data["UpdatedOn"] == "2020-01-01T21:57:21Z"
    assert_round_trips(tp, "coworker_time_pass.json")


@pytest.mark.parametrize(
    "fixture", ["coworker_time_pass_page.json", "coworker_time_pass_by_ids.json"]
)
async def test_list_page_with_list_shaped_records(
    client: Client, mocked: aioresponses, fixture: str
) -> None:
    answer(mocked, "GET", fixture)
    page = await list_coworker_time_passes.asyncio(client=client, coworker_time_pass_id=[1234567])
    assert isinstance(page, CoworkerTimePassPage)
    assert page.current_page == 1
    assert page.current_page_size == 25
    assert page.current_order_field == "Id"
    assert page.current_sort_direction == 1
    assert page.page_size == 25
    assert page.has_next_page is True
    assert page.has_previous_page is False
    expected = fixture_json(fixture)
    assert (page.total_items, page.total_pages, page.last_item) == (
        expected["TotalItems"],
        expected["TotalPages"],
        expected["LastItem"],
    )
    (record,) = page.records
    assert isinstance(record, CoworkerTimePassListItem)
    assert record.id == 1234567
    assert (record.coworker, record.business, record.time_pass) == (None, None, None)
    assert record.coworker_time_pass_time_pass_name == "..."
    assert record.coworker_time_pass_time_pass_currency_code == "..."
    assert record.unique_id == uuid.UUID(expected["Records"][0]["UniqueId"])
    assert record.created_on == datetime.datetime(2018, 7, 3, 6, 23, 1)
    assert unstructure(record)["UpdatedOn"] == "2020-01-01T21:57:21Z"
    assert_round_trips(page, fixture)


async def test_action_result_created(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "POST", "action_result_created.json")
    result = await create_coworker_time_pass.asyncio(client=client, body=CREATE)
    assert isinstance(result, ActionResult)
    assert result.was_successful is True
    assert result.status == 200
    assert result.message == "CoworkerTimePass was successfully created."
    assert result.value is not None and result.value is not UNSET
    assert result.value.id == 87654321
    assert result.errors is None
    assert result.open_in_dialog is False
    assert result.redirect_url is None
    assert result.updated_on == datetime.datetime(2025, 1, 15, 10, 30)
    assert result.updated_by == "admin@example.com"
    assert unstructure(result)["UpdatedOn"] == "2025-01-15T10:30:00Z"
    assert_round_trips(result, "action_result_created.json")


@pytest.mark.parametrize(
    ("module", "fixture", "method"),
    [
        (create_coworker_time_pass, "action_result_created_short.json", "POST"),
        (update_coworker_time_pass, "action_result_created_short.json", "PUT"),
    ],
)
async def test_action_result_short(
    client: Client, mocked: aioresponses, module: Any, fixture: str, method: str
) -> None:
    answer(mocked, method, fixture)
    body = CREATE if method == "POST" else UPDATE
    result = await module.asyncio(client=client, body=body)
    assert isinstance(result, ActionResult)
    assert result.value is not None and result.value is not UNSET
    assert result.value.id == 12354678
    assert result.errors is UNSET
    assert_round_trips(result, fixture)


async def test_action_result_deleted(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "DELETE", "action_result_deleted.json")
    result = await delete_coworker_time_pass.asyncio(12345678, client=client)
    assert isinstance(result, ActionResult)
    assert result.was_successful is True
    assert result.value is None
    assert result.open_in_window is UNSET
    assert_round_trips(result, "action_result_deleted.json")


async def test_validation_error_400(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "POST", "validation_error_400.json", status=400)
    response = await create_coworker_time_pass.asyncio_detailed(client=client, body=CREATE)
    assert response.status_code == 400
    error = response.parsed
    assert isinstance(error, ErrorEnvelope)
    assert error.was_successful is False
    assert error.message == "Name: is required"
    assert error.value is None
    assert error.status is UNSET
    assert isinstance(error.errors, list)
    (field,) = error.errors
    assert (field.property_name, field.message, field.attempted_value) == (
        "Name",
        "is required",
        None,
    )
    assert_round_trips(error, "validation_error_400.json")


async def test_validation_error_in_a_200_action_result(
    client: Client, mocked: aioresponses
) -> None:
    # 003 shows the invalid answer with "Status": 500 in the body; whatever the
    # HTTP status, a 200 parses as the action result with WasSuccessful false.
    answer(mocked, "PUT", "validation_error_500.json")
    result = await update_coworker_time_pass.asyncio(client=client, body=UPDATE)
    assert isinstance(result, ActionResult)
    assert result.was_successful is False
    assert result.status == 500
    assert result.message == "Name: may not be null or empty"
    assert isinstance(result.errors, list)
    assert result.errors[0].property_name == "Name"
    assert result.errors[0].message == "may not be null or empty"
    assert_round_trips(result, "validation_error_500.json")


async def test_http_500_parses_as_the_error_envelope(client: Client, mocked: aioresponses) -> None:
    # Both 500s the API is known for: the transient "Ooops" and 003's
    # validation failure answered with HTTP 500.
    ooops = (
        b'{"Status":500,"Message":"Ooops! There was a problem while running this action",'
        b'"Value":null,"WasSuccessful":false,"Errors":null}'
    )
    answer(mocked, "POST", body=ooops, status=500)
    response = await create_coworker_time_pass.asyncio_detailed(client=client, body=CREATE)
    assert response.status_code == 500
    assert isinstance(response.parsed, ErrorEnvelope)
    assert response.parsed.message == "Ooops! There was a problem while running this action"
    assert response.parsed.errors is None

    answer(mocked, "PUT", "validation_error_500.json", status=500)
    response = await update_coworker_time_pass.asyncio_detailed(client=client, body=UPDATE)
    assert isinstance(response.parsed, ErrorEnvelope)
    assert isinstance(response.parsed.errors, list)
    assert response.parsed.errors[0].property_name == "Name"


async def test_commands_list(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "GET", "commands.json")
    commands = await list_coworker_time_pass_commands.asyncio(client=client)
    assert isinstance(commands, list)
    first, second = commands
    assert isinstance(first, Command)
    assert (first.key, first.name, first.order) == (
        "COMMAND_KEY_1",
        "Command 1 english description",
        2,
    )
    assert first.requires_parameters == []
    assert first.needs_entities_to_run is True
    assert first.display_in_dropdown_v2 is True
    assert second.applies_only_to_one_entity is True
    assert second.requires_parameters is not UNSET
    assert [(p.name, p.type_) for p in second.requires_parameters] == [
        ("Parameter 1 description", "string"),
        ("Parameter 2 description", "Boolean"),
    ]
    assert unstructure(commands) == fixture_json("commands.json")


async def test_run_command_result(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "POST", "run_command_result.json")
    result = await run_coworker_time_pass_command.asyncio(
        client=client, body=RunCommandRequest(key="COMMAND_KEY_2", ids=[1329961649])
    )
    assert isinstance(result, ActionResult)
    assert result.was_successful is True
    assert result.message == "Result description"
    assert result.updated_by == "email@example.net"
    assert result.updated_on == datetime.datetime(2020, 6, 4, 11, 40, 20)
    assert result.value is not None and result.value is not UNSET
    assert result.value.id == 12345678
    assert unstructure(result)["UpdatedOn"] == "2020-06-04T11:40:20Z"
    assert_round_trips(result, "run_command_result.json")


async def test_unknown_enum_value_and_unknown_field(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "GET", "product_time_pass_observed.json")
    tp = await get_product_time_pass.asyncio(7654321, client=client)
    assert isinstance(tp, ProductTimePass)
    # ExpirationType 0 is not documented: it parses instead of failing the response
    assert isinstance(tp.expiration_type, ExpirationType)
    assert tp.expiration_type == 0
    assert tp.expiration_type.name == "UNKNOWN_0"
    assert ExpirationType(0) is tp.expiration_type
    # a field the spec does not name is kept, and sent back
    assert tp.additional_properties == {"IsArchived": False}
    assert tp["IsArchived"] is False
    # fractional seconds kept, written back exactly as the API wrote them
    assert tp.created_on == datetime.datetime(2024, 11, 5, 9, 15, 30, 123000)
    assert tp.updated_on == datetime.datetime(2025, 2, 28, 17, 45, 0, 500000)
    data = unstructure(tp)
    assert data["CreatedOn"] == "2024-11-05T09:15:30.123Z"
    assert data["UpdatedOn"] == "2025-02-28T17:45:00.5Z"
    assert data["ExpirationType"] == 0
    assert_round_trips(tp, "product_time_pass_observed.json")


async def test_token_answer(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "POST", "token.json")
    token = await create_token.asyncio(
        client=client,
        body=TokenRequest(grant_type=TokenRequestGrantType.REFRESH_TOKEN, refresh_token="R"),
    )
    assert isinstance(token, TokenResponse)
    assert (token.access_token, token.token_type, token.expires_in, token.refresh_token) == (
        "ACCESS",
        "bearer",
        604799,
        "REFRESH",
    )


async def test_undocumented_status(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "GET", body=b"<html>bad gateway</html>", status=502)
    response = await get_coworker_time_pass.asyncio_detailed(1, client=client)
    assert response.status_code == 502
    assert response.parsed is None
    assert response.content == b"<html>bad gateway</html>"


async def test_raise_on_unexpected_status(client: Client, mocked: aioresponses) -> None:
    from nexudus_async._generated.errors import UnexpectedStatus

    answer(mocked, "GET", body=b"Bad Gateway", status=502)  # not in the document
    strict = Client(transport=client.transport, raise_on_unexpected_status=True)
    with pytest.raises(UnexpectedStatus) as caught:
        await get_coworker_time_pass.asyncio_detailed(1, client=strict)
    assert caught.value.status_code == 502


async def test_throttled_429_text(client: Client, mocked: aioresponses) -> None:
    answer(mocked, "GET", body=b"Wait 3 seconds", status=429)
    response = await list_coworker_time_passes.asyncio_detailed(client=client)
    assert response.status_code == 429
    assert response.parsed == "Wait 3 seconds"
