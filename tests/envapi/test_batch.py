"""`$batch` on both APIs over real HTTP on every backend: change sets commit whole or not at
all, Content-ID references, LF or CRLF bodies, absolute or relative URLs, continue-on-error."""

from __future__ import annotations

import json
import re

import httpx
from sqlalchemy import create_engine, func, select

from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from envapi.conftest import ACCOUNTS, CUSTOMERS, World


def _count(url: str, table: object) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def _company(world: World) -> str:
    engine = create_engine(world.dv_url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(select(dv.cdm_company.c.cdm_companyid).limit(1)))
    finally:
        engine.dispose()


def _part(method: str, url: str, body: object | None = None, content_id: str | None = None) -> str:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    lines = [*head, "", f"{method} {url} HTTP/1.1"]
    if body is not None:
        lines += ["Content-Type: application/json; type=entry", "", json.dumps(body)]
    else:
        lines += ["Accept: application/json", ""]
    return "\n".join(lines)


def _batch(parts: list[str | list[str]], newline: str = "\n") -> tuple[str, str]:
    chunks = []
    for part in parts:
        if isinstance(part, list):
            inner = "\n".join(f"--changeset_x\n{p}" for p in part) + "\n--changeset_x--"
            chunks.append(
                f"--batch_x\nContent-Type: multipart/mixed; boundary=changeset_x\n\n{inner}"
            )
        else:
            chunks.append(f"--batch_x\n{part}")
    body = "\n".join(chunks) + "\n--batch_x--\n"
    return body.replace("\n", newline), "multipart/mixed; boundary=batch_x"


def _statuses(response: httpx.Response) -> list[int]:
    return [int(s) for s in re.findall(r"HTTP/1\.1 (\d{3})", response.text)]


def test_dataverse_batch(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    company = _company(world)
    relative = f"/dataverse/{world.environment_id}/api/data/v9.2"
    account = {
        "name": "Batch",
        "accountnumber": "B-1",
        "msdyn_company@odata.bind": f"/cdm_companies({company})",
    }
    contact = {"lastname": "Batchson", "parentcustomerid_account@odata.bind": "$1"}
    for newline in ("\n", "\r\n"):
        number = "B-1" if newline == "\n" else "B-2"
        body, content_type = _batch(
            [
                _part("GET", f"{base}/accounts?$select=name&$top=2"),
                [
                    _part(
                        "POST", f"{relative}/accounts", {**account, "accountnumber": number}, "1"
                    ),
                    _part("POST", "contacts", contact, "2"),
                    _part("PATCH", "$1", {"name": "Batch renamed"}, "3"),
                ],
            ],
            newline,
        )
        response = admin.post(
            f"{base}/$batch", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(
            "multipart/mixed; boundary=batchresponse_"
        )
        assert _statuses(response) == [200, 204, 204, 204]
        assert "Content-ID: 2" in response.text
    accounts = admin.get(
        f"{base}/accounts?$filter=name eq 'Batch renamed'&$select=accountnumber"
    ).json()
    assert sorted(a["accountnumber"] for a in accounts["value"]) == ["B-1", "B-2"]
    contacts = admin.get(f"{base}/contacts?$filter=lastname eq 'Batchson'").json()["value"]
    assert {c["_parentcustomerid_value"] for c in contacts} == {
        a["accountid"]
        for a in admin.get(f"{base}/accounts?$filter=name eq 'Batch renamed'").json()["value"]
    }

    # A failing request in a change set: nothing of the change set is written.
    body, content_type = _batch(
        [
            [
                _part("POST", "accounts", {**account, "accountnumber": "B-3"}, "1"),
                _part("POST", "contacts", {"lastname": "x" * 60}, "2"),
            ]
        ]
    )
    failed = admin.post(f"{base}/$batch", content=body, headers={"Content-Type": content_type})
    assert failed.status_code == 400
    assert (
        _statuses(failed) == [400]
        and "0x80044331" in failed.text
        and "Content-ID: 2" in failed.text
    )
    assert _count(world.dv_url, dv.account) == ACCOUNTS + 2
    # A failure in the commit (a duplicate key) rolls back the earlier rows of the change set.
    body, content_type = _batch(
        [
            [
                _part("POST", "accounts", {**account, "accountnumber": "B-4"}, "1"),
                _part("POST", "accounts", {**account, "accountnumber": "B-1"}, "2"),
            ]
        ]
    )
    failed = admin.post(f"{base}/$batch", content=body, headers={"Content-Type": content_type})
    assert _statuses(failed) == [412] and "0x80040237" in failed.text
    assert _count(world.dv_url, dv.account) == ACCOUNTS + 2

    unknown = _batch([[_part("PATCH", "$7", {"name": "x"}, "1")]])
    answer = admin.post(f"{base}/$batch", content=unknown[0], headers={"Content-Type": unknown[1]})
    assert "Content-ID Reference: '$7' does not exist in the batch context." in answer.text

    # Stop at the first failure by default; go on with odata.continue-on-error.
    parts: list[str | list[str]] = [_part("GET", "nothing"), _part("GET", "accounts?$top=1")]
    body, content_type = _batch(parts)
    stopped = admin.post(f"{base}/$batch", content=body, headers={"Content-Type": content_type})
    assert stopped.status_code == 404 and _statuses(stopped) == [404]
    going = admin.post(
        f"{base}/$batch",
        content=body,
        headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"},
    )
    assert going.status_code == 200 and _statuses(going) == [404, 200]

    bad = admin.post(
        f"{base}/$batch", content=b"--x\n", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "0x0"
    unclosed = admin.post(
        f"{base}/$batch", content=b"--batch_x\n", headers={"Content-Type": content_type}
    )
    assert unclosed.status_code == 400
    many, content_type = _batch([_part("GET", "accounts?$top=1")] * 1001)
    too_many = admin.post(f"{base}/$batch", content=many, headers={"Content-Type": content_type})
    assert too_many.status_code == 400 and "at most 1000" in too_many.json()["error"]["message"]


def test_fo_batch(world: World, admin: httpx.Client) -> None:
    base = world.fo
    customer = {
        "CustomerAccount": "BAT-1",
        "OrganizationName": "Batch Inc",
        "CustomerGroupId": "10",
        "SalesCurrencyCode": "USD",
    }
    body, content_type = _batch(
        [
            [
                _part("POST", f"{base}/CustomersV3", customer, "1"),
                _part("PATCH", "$1", {"OrganizationName": "Batch Renamed"}, "2"),
            ],
            _part("GET", "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='BAT-1')"),
        ]
    )
    response = admin.post(f"{base}/$batch", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert _statuses(response) == [201, 204, 200]
    assert "Batch Renamed" in response.text
    body, content_type = _batch(
        [
            [
                _part("POST", "CustomersV3", {**customer, "CustomerAccount": "BAT-2"}, "1"),
                _part(
                    "POST",
                    "CustomersV3",
                    {**customer, "CustomerAccount": "BAT-3", "CustomerGroupId": "NOPE"},
                    "2",
                ),
            ]
        ]
    )
    failed = admin.post(f"{base}/$batch", content=body, headers={"Content-Type": content_type})
    assert _statuses(failed) == [400]
    assert "Write failed for table row of type 'CustCustomerV3Entity'" in failed.text
    assert _count(world.fo_url, fo.customersv3) == CUSTOMERS + 1
