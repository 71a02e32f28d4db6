"""What every generated operation puts on the wire: method, path, query, body, headers."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from aioresponses import aioresponses

from nexudus_async._core.wire import UNSET
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
from nexudus_async._generated.api.product_time_passes import (
    create_product_time_pass,
    delete_product_time_pass,
    get_product_time_pass,
    list_product_time_pass_commands,
    list_product_time_passes,
    run_product_time_pass_command,
    update_product_time_pass,
)
from nexudus_async._generated.api.tariff_time_passes import (
    create_tariff_time_pass,
    delete_tariff_time_pass,
    get_tariff_time_pass,
    list_tariff_time_pass_commands,
    list_tariff_time_passes,
    run_tariff_time_pass_command,
    update_tariff_time_pass,
)
from nexudus_async._generated.api.token import create_token
from nexudus_async._generated.models import (
    CommandParameter,
    CoworkerTimePassCreate,
    CoworkerTimePassUpdate,
    ExpirationType,
    PassRenewalTime,
    ProductTimePassCreate,
    ProductTimePassUpdate,
    RunCommandRequest,
    SortDirection,
    TariffTimePassCreate,
    TariffTimePassUpdate,
    TokenRequest,
    TokenRequestGrantType,
)

from .conftest import BASE, answer

JSON = {"Content-Type": "application/json"}
COLLECTIONS = {
    "coworker": "/api/billing/coworkertimepasses",
    "product": "/api/billing/producttimepasses",
    "tariff": "/api/billing/tarifftimepasses",
}


# ----------------------------------------------------------------------------- list


async def test_list_coworker_time_passes_query(
    client: Client, mocked: aioresponses, sent: Any
) -> None:
    answer(mocked, "GET", "coworker_time_pass_page.json")
    product = uuid.UUID("4bf6f8b5-9763-4f32-8408-52872c134b11")
    await list_coworker_time_passes.asyncio_detailed(
        client=client,
        page=2,
        size=100,
        orderby="UpdatedOn",
        dir_=SortDirection.DESCENDING,
        coworker_time_pass_id=[1, 2],
        coworker_time_pass_coworker=42,
        coworker_time_pass_used=False,
        coworker_time_pass_is_from_tariff=True,
        coworker_time_pass_coworker_product_unique_id=product,
        coworker_time_pass_price=12.5,
        coworker_time_pass_notes="a b&c",
        coworker_time_pass_time_pass_name=UNSET,  # explicitly not sent
        from_coworker_time_pass_created_on=datetime.datetime(2025, 1, 1, 0, 0),
        to_coworker_time_pass_created_on=datetime.datetime(2025, 1, 31, 23, 59, 30),
        from_coworker_time_pass_price=1e-7,
    )
    s = sent()
    assert s.method == "GET"
    assert s.path == "/api/billing/coworkertimepasses"
    assert s.params == (
        ("page", "2"),
        ("size", "100"),
        ("orderby", "UpdatedOn"),
        ("dir", "descending"),
        ("CoworkerTimePass_Id", "[1,2]"),
        ("CoworkerTimePass_Coworker", "42"),
        ("CoworkerTimePass_CoworkerProductUniqueId", str(product)),
        ("CoworkerTimePass_IsFromTariff", "true"),
        ("CoworkerTimePass_Notes", "a b&c"),
        ("CoworkerTimePass_Price", "12.5"),
        ("CoworkerTimePass_Used", "false"),
        ("From_CoworkerTimePass_CreatedOn", "2025-01-01T00:00"),
        ("To_CoworkerTimePass_CreatedOn", "2025-01-31T23:59:30"),
        ("From_CoworkerTimePass_Price", "0.0000001"),
    )
    assert s.url == (
        BASE + "/api/billing/coworkertimepasses?page=2&size=100&orderby=UpdatedOn&dir=descending"
        "&CoworkerTimePass_Id=%5B1,2%5D&CoworkerTimePass_Coworker=42"
        "&CoworkerTimePass_CoworkerProductUniqueId=4bf6f8b5-9763-4f32-8408-52872c134b11"
        "&CoworkerTimePass_IsFromTariff=true&CoworkerTimePass_Notes=a+b%26c"
        "&CoworkerTimePass_Price=12.5&CoworkerTimePass_Used=false"
        "&From_CoworkerTimePass_CreatedOn=2025-01-01T00:00"
        "&To_CoworkerTimePass_CreatedOn=2025-01-31T23:59:30"
        "&From_CoworkerTimePass_Price=0.0000001"
    )
    assert s.data is None
    assert s.headers == {}
    assert s.kwargs["allow_redirects"] is False


async def test_list_without_filters_sends_no_query(
    client: Client, mocked: aioresponses, sent: Any
) -> None:
    answer(mocked, "GET", "coworker_time_pass_page.json")
    await list_coworker_time_passes.asyncio(client=client)
    s = sent()
    assert s.params == ()
    assert s.kwargs["params"] is None
    assert s.url == BASE + "/api/billing/coworkertimepasses"


async def test_list_product_time_passes_query(
    client: Client, mocked: aioresponses, sent: Any
) -> None:
    answer(mocked, "GET", "coworker_time_pass_page.json")  # body irrelevant here
    await list_product_time_passes.asyncio_detailed(
        client=client,
        page=1,
        product_time_pass_id=[7],
        product_time_pass_product=5,
        product_time_pass_expiration_type=ExpirationType.MONTH,
        from_product_time_pass_updated_on=datetime.datetime(2024, 12, 24, 8, 30),
        to_product_time_pass_updated_on=datetime.datetime(2024, 12, 24, 18, 0, 0, 500000),
    )
    s = sent()
    assert (s.method, s.path) == ("GET", "/api/billing/producttimepasses")
    assert s.params == (
        ("page", "1"),
        ("ProductTimePass_Id", "[7]"),
        ("ProductTimePass_Product", "5"),
        ("ProductTimePass_ExpirationType", "4"),
        ("From_ProductTimePass_UpdatedOn", "2024-12-24T08:30"),
        ("To_ProductTimePass_UpdatedOn", "2024-12-24T18:00:00.5"),
    )


async def test_list_tariff_time_passes_query(
    client: Client, mocked: aioresponses, sent: Any
) -> None:
    answer(mocked, "GET", "coworker_time_pass_page.json")
    await list_tariff_time_passes.asyncio_detailed(
        client=client,
        tariff_time_pass_id=[1, 2, 3],
        tariff_time_pass_tariff=9,
        tariff_time_pass_pass_renewal_time=PassRenewalTime.CALENDAR_MONTH,
        tariff_time_pass_tariff_name="Hot desk",
        from_tariff_time_pass_passes_included=0,
        to_tariff_time_pass_passes_included=10,
    )
    s = sent()
    assert (s.method, s.path) == ("GET", "/api/billing/tarifftimepasses")
    assert s.params == (
        ("TariffTimePass_Id", "[1,2,3]"),
        ("TariffTimePass_Tariff", "9"),
        ("TariffTimePass_PassRenewalTime", "2"),
        ("TariffTimePass_Tariff_Name", "Hot desk"),
        ("From_TariffTimePass_PassesIncluded", "0"),
        ("To_TariffTimePass_PassesIncluded", "10"),
    )
    assert "TariffTimePass_Id=%5B1,2,3%5D" in s.url


# ----------------------------------------------------------------------------- by id

BY_ID = [
    ("coworker", get_coworker_time_pass, "GET"),
    ("product", get_product_time_pass, "GET"),
    ("tariff", get_tariff_time_pass, "GET"),
    ("coworker", delete_coworker_time_pass, "DELETE"),
    ("product", delete_product_time_pass, "DELETE"),
    ("tariff", delete_tariff_time_pass, "DELETE"),
]


@pytest.mark.parametrize(("resource", "module", "method"), BY_ID)
async def test_by_id_operations(
    client: Client, mocked: aioresponses, sent: Any, resource: str, module: Any, method: str
) -> None:
    answer(mocked, method, status=409, headers={"Retry-After": "1"})  # throttled: empty body
    response = await module.asyncio_detailed(12, client=client)
    assert response.status_code == 409
    assert response.parsed is None
    assert response.headers["retry-after"] == "1"
    s = sent()
    assert s.method == method
    assert s.path == f"{COLLECTIONS[resource]}/12"
    assert s.params == ()
    assert s.data is None
    assert s.headers == {}


COMMANDS = [
    ("coworker", list_coworker_time_pass_commands),
    ("product", list_product_time_pass_commands),
    ("tariff", list_tariff_time_pass_commands),
]


@pytest.mark.parametrize(("resource", "module"), COMMANDS)
async def test_list_commands(
    client: Client, mocked: aioresponses, sent: Any, resource: str, module: Any
) -> None:
    answer(mocked, "GET", "commands.json")
    commands = await module.asyncio(client=client)
    assert [c.key for c in commands] == ["COMMAND_KEY_1", "COMMAND_KEY_2"]
    s = sent()
    assert (s.method, s.path, s.params, s.data, s.headers) == (
        "GET",
        f"{COLLECTIONS[resource]}/commands",
        (),
        None,
        {},
    )


RUN_COMMAND = [
    ("coworker", run_coworker_time_pass_command),
    ("product", run_product_time_pass_command),
    ("tariff", run_tariff_time_pass_command),
]


@pytest.mark.parametrize(("resource", "module"), RUN_COMMAND)
async def test_run_command(
    client: Client, mocked: aioresponses, sent: Any, resource: str, module: Any
) -> None:
    answer(mocked, "POST", "run_command_result.json")
    body = RunCommandRequest(
        key="COMMAND_KEY_2",
        ids=[1329961649],
        parameters=[
            CommandParameter(type_="string", value=987654321),
            CommandParameter(name="Parameter 2 description", value=True),
            CommandParameter(type_="DateTime", value=None),
        ],
    )
    result = await module.asyncio(client=client, body=body)
    assert result.was_successful is True
    s = sent()
    assert (s.method, s.path, s.params) == ("POST", f"{COLLECTIONS[resource]}/runcommand", ())
    assert s.headers == JSON
    assert s.json() == {
        "Key": "COMMAND_KEY_2",
        "Ids": [1329961649],
        "Parameters": [
            {"Type": "string", "Value": 987654321},
            {"Name": "Parameter 2 description", "Value": True},
            {"Type": "DateTime", "Value": None},
        ],
    }


# ----------------------------------------------------------------------------- writes


def _writes() -> list[tuple[str, Any, str, Any, dict[str, Any]]]:
    expire = datetime.datetime(2025, 3, 31, 18, 0)
    tariff_uid = uuid.UUID("db54a929-6dd1-4907-a9db-2538d7e522b0")
    return [
        (
            "coworker",
            create_coworker_time_pass,
            "POST",
            CoworkerTimePassCreate(
                coworker_id=1,
                business_id=2,
                time_pass_id=3,
                create_multiple=5,
                notes=None,  # sent as null: clears
                price=19.99,
                expire_date=expire,
                tariff_time_pass_unique_id=tariff_uid,
                # purchase_order, used, free, ... left UNSET: not sent at all
            ),
            {
                "CoworkerId": 1,
                "BusinessId": 2,
                "TimePassId": 3,
                "CreateMultiple": 5,
                "Notes": None,
                "Price": 19.99,
                "ExpireDate": "2025-03-31T18:00:00Z",
                "TariffTimePassUniqueId": "db54a929-6dd1-4907-a9db-2538d7e522b0",
            },
        ),
        (
            "coworker",
            update_coworker_time_pass,
            "PUT",
            CoworkerTimePassUpdate(
                id=1234567,
                coworker_id=1,
                business_id=2,
                time_pass_id=3,
                create_multiple=1,
                used=False,
                free=True,
                price=None,
                expire_date=None,
                system_id="ext-1",
            ),
            {
                "Id": 1234567,
                "CoworkerId": 1,
                "BusinessId": 2,
                "TimePassId": 3,
                "CreateMultiple": 1,
                "Used": False,
                "Free": True,
                "Price": None,
                "ExpireDate": None,
                "SystemId": "ext-1",
            },
        ),
        (
            "product",
            create_product_time_pass,
            "POST",
            ProductTimePassCreate(
                product_id=10,
                time_pass_id=3,
                passes_included=0,
                expiration_type=ExpirationType.LAST_DAY_OF_MONTH,
                expires_in=None,
            ),
            {
                "ProductId": 10,
                "TimePassId": 3,
                "PassesIncluded": 0,
                "ExpirationType": 6,
                "ExpiresIn": None,
            },
        ),
        (
            "product",
            update_product_time_pass,
            "PUT",
            ProductTimePassUpdate(
                id=8,
                product_id=10,
                time_pass_id=3,
                passes_included=2,
                expire_time_in_months=1,
                expiration_type=None,
            ),
            {
                "Id": 8,
                "ProductId": 10,
                "TimePassId": 3,
                "PassesIncluded": 2,
                "ExpireTimeInMonths": 1,
                "ExpirationType": None,
            },
        ),
        (
            "tariff",
            create_tariff_time_pass,
            "POST",
            TariffTimePassCreate(
                tariff_id=4,
                time_pass_id=3,
                passes_included=10,
                pass_renewal_time=PassRenewalTime.DAY,
            ),
            {"TariffId": 4, "TimePassId": 3, "PassesIncluded": 10, "PassRenewalTime": 5},
        ),
        (
            "tariff",
            update_tariff_time_pass,
            "PUT",
            TariffTimePassUpdate(
                id=9,
                tariff_id=4,
                time_pass_id=3,
                passes_included=10,
                pass_renewal_time=PassRenewalTime.WEEK,
                system_id=None,
            ),
            {
                "Id": 9,
                "TariffId": 4,
                "TimePassId": 3,
                "PassesIncluded": 10,
                "PassRenewalTime": 1,
                "SystemId": None,
            },
        ),
    ]


@pytest.mark.parametrize(("resource", "module", "method", "body", "expected"), _writes())
async def test_writes_send_exact_json(
    client: Client,
    mocked: aioresponses,
    sent: Any,
    resource: str,
    module: Any,
    method: str,
    body: Any,
    expected: dict[str, Any],
) -> None:
    answer(mocked, method, "action_result_created.json")
    result = await module.asyncio(client=client, body=body)
    assert result.was_successful is True
    s = sent()
    assert (s.method, s.path, s.params) == (method, COLLECTIONS[resource], ())
    assert s.headers == JSON
    assert isinstance(s.data, bytes)
    assert s.json() == expected


# ----------------------------------------------------------------------------- token


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            TokenRequest(
                grant_type=TokenRequestGrantType.PASSWORD,
                username="admin@example.com",
                password="p@ss w&rd",
                totp="123456",
            ),
            b"grant_type=password&username=admin%40example.com&password=p%40ss+w%26rd&totp=123456",
        ),
        (
            TokenRequest(grant_type=TokenRequestGrantType.REFRESH_TOKEN, refresh_token="r/t+1"),
            b"grant_type=refresh_token&refresh_token=r%2Ft%2B1",
        ),
    ],
)
async def test_token_is_form_encoded(
    client: Client, mocked: aioresponses, sent: Any, body: TokenRequest, expected: bytes
) -> None:
    answer(mocked, "POST", "token.json")
    token = await create_token.asyncio(client=client, body=body)
    assert token is not None
    s = sent()
    assert (s.method, s.path, s.params) == ("POST", "/api/token", ())
    assert s.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert s.data == expected
