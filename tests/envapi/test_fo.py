"""Finance and operations OData over real HTTP on every backend: public names, company
defaulting and cross-company, compound keys (also double-encoded), query options with $skip,
enum literals and wildcards, paging, writes and F&O's error shape."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import httpx
from sqlalchemy import create_engine, insert

from dualwrite.stores import fo
from envapi.conftest import CUSTOMERS, World

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _fo_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == "" and set(error) == {"code", "message", "innererror"}
    assert set(error["innererror"]) == {"message", "type", "stacktrace"}
    return dict(error)


def test_reads_company_and_queries(world: World, admin: httpx.Client) -> None:
    base = world.fo
    service = admin.get(f"{base}/").json()
    assert {"name": "CustomersV3", "kind": "EntitySet", "url": "CustomersV3"} in service["value"]
    root = ET.fromstring(admin.get(f"{base}/$metadata").content)  # noqa: S314 - our own answer
    customer = next(t for t in root.iter(f"{EDM}EntityType") if t.get("Name") == "CustomerV3")
    assert [k.get("Name") for k in customer.iter(f"{EDM}PropertyRef")] == [
        "dataAreaId",
        "CustomerAccount",
    ]
    assert any(e.get("Name") == "NoYes" for e in root.iter(f"{EDM}EnumType"))

    default = admin.get(
        f"{base}/CustomersV3?$count=true", headers={"x-ms-client-request-id": "trace-1"}
    )
    assert default.headers["ms-dyn-aid"] == "trace-1"
    body = default.json()
    assert body["@odata.count"] == CUSTOMERS // 2
    assert {r["dataAreaId"] for r in body["value"]} == {"usmf"}  # the first legal entity only
    first = body["value"][0]
    assert {
        "CustomerAccount",
        "OrganizationName",
        "CustomerGroupId",
        "CreditLimitIsUnlimited",
    } <= set(first)
    assert first["CreditLimitIsUnlimited"] in ("Yes", "No")
    everything = admin.get(f"{base}/CustomersV3?cross-company=true&$count=true").json()
    assert everything["@odata.count"] == CUSTOMERS
    assert {r["dataAreaId"] for r in everything["value"]} == {"usmf", "demf"}
    demf = admin.get(f"{base}/CustomersV3?$filter=dataAreaId eq 'demf'&cross-company=true").json()
    assert len(demf["value"]) == CUSTOMERS // 2 and {r["dataAreaId"] for r in demf["value"]} == {
        "demf"
    }
    assert admin.get(f"{base}/CustomersV3?$filter=dataAreaId eq 'demf'").json()["value"] == []

    account = first["CustomerAccount"]
    record = admin.get(f"{base}/CustomersV3(dataAreaId='usmf',CustomerAccount='{account}')")
    assert (
        record.status_code == 200 and record.json()["OrganizationName"] == first["OrganizationName"]
    )
    assert record.json()["@odata.context"] == f"{base}/$metadata#CustomersV3/$entity"
    other = everything["value"][-1]
    company, number = other["dataAreaId"], other["CustomerAccount"]
    key = f"CustomersV3(dataAreaId='{company}',CustomerAccount='{number}')"
    _fo_error(admin.get(f"{base}/{key}"), 404)  # another company without cross-company
    assert admin.get(f"{base}/{key}?cross-company=true").status_code == 200

    yes = admin.get(
        f"{base}/CustomersV3?$filter=CreditLimitIsUnlimited eq "
        "Microsoft.Dynamics.DataEntities.NoYes'No'&$select=CustomerAccount,CreditLimitIsUnlimited"
    ).json()["value"]
    assert yes and all(r["CreditLimitIsUnlimited"] == "No" for r in yes)
    assert set(yes[0]) == {"@odata.etag", "CustomerAccount", "CreditLimitIsUnlimited"}
    word = first["OrganizationName"].split()[1].lower()
    wildcard = admin.get(
        f"{base}/CustomersV3", params={"$filter": f"OrganizationName eq '*{word}*'"}
    ).json()
    expected = [r for r in body["value"] if word in r["OrganizationName"].lower()]
    assert len(wildcard["value"]) == len(expected)
    skipped = admin.get(f"{base}/CustomersV3?$orderby=CustomerAccount&$skip=3&$top=4").json()[
        "value"
    ]
    accounts = sorted(r["CustomerAccount"] for r in body["value"])
    assert [r["CustomerAccount"] for r in skipped] == accounts[3:7]
    count = admin.get(f"{base}/CustomersV3/$count?cross-company=true")
    assert count.text == str(CUSTOMERS)

    url: str | None = f"{base}/CustomersV3?cross-company=true&$orderby=OrganizationName desc"
    sizes, names = [], []
    while url:
        page = admin.get(url, headers={"Prefer": "odata.maxpagesize=5"}).json()
        sizes.append(len(page["value"]))
        names += [r["OrganizationName"] for r in page["value"]]
        url = page.get("@odata.nextLink")
    assert sizes == [5] * (CUSTOMERS // 5) + ([CUSTOMERS % 5] if CUSTOMERS % 5 else [])
    assert names == sorted((r["OrganizationName"] for r in everything["value"]), reverse=True)

    expanded = admin.get(
        f"{base}/CustomersV3?$top=2&$expand=CustomerGroup($select=Description)"
    ).json()
    assert all(set(r["CustomerGroup"]) == {"@odata.etag", "Description"} for r in expanded["value"])

    assert _fo_error(admin.get(f"{base}/Customers"), 404)["message"] == (
        "Resource not found for the segment 'Customers'."
    )
    assert "OrganisationName" in str(
        _fo_error(admin.get(f"{base}/CustomersV3?$select=OrganisationName"), 400)["message"]
    )
    _fo_error(admin.get(f"{base}/CustomersV3?$filter=CreditLimitIsUnlimited eq Foo.Bar'Yes'"), 400)
    _fo_error(admin.get(f"{base}/CustomersV3(CustomerAccount=5)"), 400)
    _fo_error(admin.get(f"{base}/CustomersV3", headers={"Prefer": "odata.maxpagesize=10001"}), 400)


def test_writes_and_encoded_keys(world: World, admin: httpx.Client) -> None:
    base = world.fo
    customer = {
        "CustomerAccount": "US/9+1",
        "OrganizationName": "Slash & Plus",
        "CustomerGroupId": "10",
        "SalesCurrencyCode": "USD",
        "CreditLimitIsUnlimited": "Yes",
    }
    created = admin.post(f"{base}/CustomersV3", json=customer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["dataAreaId"] == "usmf" and body["CustomerAccount"] == "US/9+1"
    assert body["CreditLimitIsUnlimited"] == "Yes" and body["@odata.etag"].startswith('W/"')
    for encoded in ("US%2F9%2B1", "US%252F9%252B1"):  # once, and twice as some clients do
        url = f"{base}/CustomersV3(dataAreaId='usmf',CustomerAccount='{encoded}')"
        assert admin.get(url).json()["OrganizationName"] == "Slash & Plus"
    url = f"{base}/CustomersV3(dataAreaId='usmf',CustomerAccount='US%2F9%2B1')"
    etag = body["@odata.etag"]
    assert (
        admin.patch(
            url, json={"OrganizationName": "Renamed"}, headers={"If-Match": 'W/"0"'}
        ).status_code
        == 412
    )
    assert (
        admin.patch(
            url, json={"OrganizationName": "Renamed"}, headers={"If-Match": etag}
        ).status_code
        == 204
    )
    assert admin.get(url).json()["OrganizationName"] == "Renamed"
    _fo_error(admin.patch(url, json={"CustomerAccount": "OTHER"}), 400)
    _fo_error(admin.patch(url, json={"CreditLimitIsUnlimited": "Maybe"}), 400)
    duplicate = _fo_error(admin.post(f"{base}/CustomersV3", json=customer), 412)
    assert "CustCustomerV3Entity" in str(duplicate["innererror"])
    missing_group = _fo_error(
        admin.post(
            f"{base}/CustomersV3",
            json={**customer, "CustomerAccount": "X", "CustomerGroupId": "NOPE"},
        ),
        400,
    )
    assert "Write failed for table row of type 'CustCustomerV3Entity'" in str(
        missing_group["innererror"]
    )
    _fo_error(
        admin.post(f"{base}/CustomersV3", json={**customer, "CustomerAccount": "Y" * 21}), 400
    )
    _fo_error(
        admin.post(
            f"{base}/CustomersV3", content=b"[1]", headers={"Content-Type": "application/json"}
        ),
        400,
    )
    other = admin.post(
        f"{base}/CustomersV3", json={**customer, "CustomerAccount": "DE-NEW", "dataAreaId": "demf"}
    )
    assert other.status_code == 201 and other.json()["dataAreaId"] == "demf"
    assert admin.delete(url).status_code == 204
    _fo_error(admin.delete(url), 404)

    engine = create_engine(world.fo_url)  # a row written by plain SQL reads back the same way
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(fo.customersv3).values(
                    dataareaid="USMF",
                    customeraccount="SQL-1",
                    organizationname="Plain SQL",
                    customergroupid="10",
                    salescurrencycode="USD",
                )
            )
    finally:
        engine.dispose()
    plain = admin.get(f"{base}/CustomersV3(dataAreaId='usmf',CustomerAccount='SQL-1')").json()
    assert plain["OrganizationName"] == "Plain SQL" and plain["CreditLimitIsUnlimited"] == "No"


def test_metadata_service(world: World, admin: httpx.Client) -> None:
    root = f"{world.url}/environments/{world.fo_name}/Metadata"
    entities = admin.get(f"{root}/DataEntities").json()["value"]
    customers = next(e for e in entities if e["PublicCollectionName"] == "CustomersV3")
    assert (
        customers["Name"] == "CustCustomerV3Entity"
        and customers["PublicEntityName"] == "CustomerV3"
    )
    public = admin.get(f"{root}/PublicEntities('CustomerV3')").json()
    assert public["EntitySetName"] == "CustomersV3"
    fields = {p["Name"]: p for p in public["Properties"]}
    assert fields["CustomerAccount"]["IsKey"] and fields["dataAreaId"]["IsKey"]
    assert fields["CreditLimitIsUnlimited"]["DataType"] == "Enum"
    assert "CustomerGroup" in {n["Name"] for n in public["NavigationProperties"]}
    enums = admin.get(f"{root}/PublicEnumerations").json()["value"]
    assert {"Name": "Yes", "Value": 1, "LabelId": ""} in enums[0]["Members"]
    _fo_error(admin.get(f"{root}/PublicEntities('Nope')"), 404)
