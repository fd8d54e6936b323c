"""Dataverse Web API reads over real HTTP on every backend: query options, paging, keys,
ETags, expansions, annotations, metadata and the error shapes."""

from __future__ import annotations

from urllib.parse import quote
from xml.etree import ElementTree as ET

import httpx
from sqlalchemy import create_engine, select

from dualwrite.stores import dataverse as dv
from envapi.conftest import ACCOUNTS, World

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return str(body["error"]["message"])


def _accounts(world: World) -> list[dict[str, object]]:
    engine = create_engine(world.dv_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(dv.account).order_by(dv.account.c.accountid)).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def test_query_options(world: World, admin: httpx.Client) -> None:
    for version in ("v9.0", "v9.1", "v9.2"):
        root = f"{world.url}/dataverse/{world.environment_id}/api/data/{version}"
        assert admin.get(f"{root}/").json()["value"][0] == {
            "name": "accounts",
            "kind": "EntitySet",
            "url": "accounts",
        }
    base = world.dataverse
    page = admin.get(f"{base}/accounts?$select=name,accountnumber&$top=5&$count=true").json()
    assert page["@odata.context"] == f"{base}/$metadata#accounts(name,accountnumber)"
    assert page["@odata.count"] == ACCOUNTS
    assert len(page["value"]) == 5
    first = page["value"][0]
    assert set(first) == {"@odata.etag", "name", "accountnumber", "accountid"}
    assert first["@odata.etag"].startswith('W/"')

    rows = _accounts(world)
    name = str(rows[3]["name"])
    # `+` is a space in query strings, as clients send $filter.
    found = admin.get(f"{base}/accounts?$filter=name+eq+'{quote(name)}'&$select=name").json()
    assert [r["name"] for r in found["value"]] == [r["name"] for r in rows if r["name"] == name]
    prefix = name[:3]
    contains = admin.get(
        f"{base}/accounts", params={"$filter": f"startswith(name,'{prefix.lower()}')"}
    ).json()
    assert {r["accountid"] for r in contains["value"]} == {
        r["accountid"] for r in rows if str(r["name"]).lower().startswith(prefix.lower())
    }
    ordered = admin.get(
        f"{base}/accounts", params={"$orderby": "accountnumber desc", "$select": "accountnumber"}
    ).json()
    numbers = [r["accountnumber"] for r in ordered["value"]]
    assert numbers == sorted((r["accountnumber"] for r in rows), reverse=True)
    combined = admin.get(
        f"{base}/accounts",
        params={
            "$filter": "(creditlimit ge 0 and statecode eq 0) or not (accountnumber ne null)",
            "$select": "accountid",
        },
    ).json()
    assert len(combined["value"]) == sum(
        1 for r in rows if r["creditlimit"] is not None and r["creditlimit"] >= 0
    )
    company = rows[0]["msdyn_company"]
    by_lookup = admin.get(
        f"{base}/accounts", params={"$filter": f"_msdyn_company_value eq {company}"}
    ).json()
    assert len(by_lookup["value"]) == ACCOUNTS
    count = admin.get(f"{base}/accounts/$count")
    assert count.status_code == 200 and count.text == str(ACCOUNTS)


def test_paging_fills_pages_exactly(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    url: str | None = f"{base}/accounts?$select=name&$orderby=name desc"
    sizes, names = [], []
    while url:
        response = admin.get(url, headers={"Prefer": "odata.maxpagesize=7"})
        assert response.headers["Preference-Applied"] == "odata.maxpagesize=7"
        body = response.json()
        sizes.append(len(body["value"]))
        names += [r["name"] for r in body["value"]]
        url = body.get("@odata.nextLink")
        if url:
            assert "$select=name" in url and "$orderby=name" in url and "$skiptoken=" in url
    assert sizes == [7, 7, 7, 7, 2]
    assert names == sorted((r["name"] for r in _accounts(world)), reverse=True)
    # Quoted preference values, as some clients send them; a page exactly as large as the rest.
    body = admin.get(f"{base}/accounts", headers={"Prefer": 'odata.maxpagesize="30"'}).json()
    assert len(body["value"]) == 30 and "@odata.nextLink" not in body

    first = admin.get(f"{base}/accounts", headers={"Prefer": "odata.maxpagesize=5"}).json()
    link = first["@odata.nextLink"]
    token = link.split("$skiptoken=")[1]
    tampered = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    _error(admin.get(tampered), 400, "0x0")
    other_query = link.replace("accounts?", "accounts?$select=name&")
    assert "does not belong" in _error(admin.get(other_query), 400, "0x0")
    message = _error(
        admin.get(f"{base}/accounts", headers={"Prefer": "odata.maxpagesize=5001"}),
        400,
        "0x80040203",
    )
    assert "5000" in message


def test_records_keys_etags_and_expand(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    row = _accounts(world)[0]
    guid = row["accountid"]
    record = admin.get(f"{base}/accounts({guid})")
    assert record.status_code == 200
    body = record.json()
    assert body["@odata.context"] == f"{base}/$metadata#accounts/$entity"
    assert body["accountnumber"] == row["accountnumber"]
    etag = body["@odata.etag"]
    assert record.headers["ETag"] == etag
    assert admin.get(f"{base}/accounts({guid})", headers={"If-None-Match": etag}).status_code == 304
    assert (
        admin.get(f"{base}/accounts({guid})", headers={"If-None-Match": 'W/"1"'}).status_code == 200
    )

    by_key = admin.get(f"{base}/accounts(accountnumber='{row['accountnumber']}')").json()
    assert by_key["accountid"] == guid
    both = admin.get(
        f"{base}/accounts(accountnumber='{row['accountnumber']}',msdyn_company={row['msdyn_company']})"
    ).json()
    assert both["accountid"] == guid

    expanded = admin.get(
        f"{base}/accounts({guid})?$select=name&$expand=msdyn_customergroupid($select=msdyn_groupid)"
    ).json()
    group = expanded["msdyn_customergroupid"]
    assert set(group) == {"@odata.etag", "msdyn_groupid", "msdyn_customergroupid"}
    listed = admin.get(
        f"{base}/accounts?$top=3&$expand=msdyn_company($select=cdm_companycode)"
    ).json()
    assert {r["msdyn_company"]["cdm_companycode"] for r in listed["value"]} == {"USMF"}

    annotated = admin.get(
        f"{base}/accounts({guid})",
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    assert annotated.headers["Preference-Applied"] == 'odata.include-annotations="*"'
    values = annotated.json()
    lookup = "_msdyn_customergroupid_value"
    assert values[f"{lookup}@Microsoft.Dynamics.CRM.lookuplogicalname"] == "msdyn_customergroup"
    assert values[f"{lookup}@OData.Community.Display.V1.FormattedValue"] == group["msdyn_groupid"]
    assert values["statecode@OData.Community.Display.V1.FormattedValue"] == "Active"
    assert values["creditonhold@OData.Community.Display.V1.FormattedValue"] in ("Yes", "No")
    money = values["creditlimit@OData.Community.Display.V1.FormattedValue"]
    assert money == f"${values['creditlimit']:,.2f}"  # the record's currency (USD)
    formatted_only = admin.get(
        f"{base}/accounts({guid})",
        headers={"Prefer": "odata.include-annotations=OData.Community.Display.V1.FormattedValue"},
    ).json()
    assert f"{lookup}@OData.Community.Display.V1.FormattedValue" in formatted_only
    assert f"{lookup}@Microsoft.Dynamics.CRM.lookuplogicalname" not in formatted_only

    value = admin.get(f"{base}/accounts({guid})/name").json()
    assert value["value"] == row["name"]


def test_errors_in_dataverse_shape(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    assert _error(admin.get(f"{base}/Account"), 404, "0x8006088a") == (
        "Resource not found for the segment 'Account'."
    )
    assert _error(admin.get(f"{base}/accounts?$select=Name"), 400, "0x0") == (
        "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."
    )
    assert "position" in _error(admin.get(f"{base}/accounts?$filter=name eq"), 400, "0x0")
    assert "incompatible types" in _error(
        admin.get(f"{base}/accounts?$filter=name eq 5"), 400, "0x0"
    )
    assert "$skip" in _error(admin.get(f"{base}/accounts?$skip=5"), 400, "0x80060888")
    _error(admin.get(f"{base}/accounts(not-a-guid)"), 400, "0x0")
    missing = "00000000-0000-0000-0000-000000000001"
    assert _error(admin.get(f"{base}/accounts({missing})"), 404, "0x80040217") == (
        f"account With Id = {missing} Does Not Exist"
    )
    _error(admin.get(f"{base}/accounts(name='x')"), 400, "0x0")
    _error(admin.get(f"{base}/accounts?$top=-1"), 400, "0x0")
    _error(admin.get(f"{base}/accounts?$foo=1"), 400, "0x0")
    _error(admin.get(f"{base}/accounts?$expand=nothing"), 400, "0x0")
    _error(
        admin.get(f"{world.url}/dataverse/{world.environment_id}/api/data/v8.0/accounts"),
        404,
        "0x8006088a",
    )


def test_metadata_whoami_and_entity_definitions(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    metadata = admin.get(f"{base}/$metadata")
    assert metadata.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(metadata.content)  # noqa: S314 - our own server's answer
    types = {t.get("Name"): t for t in root.iter(f"{EDM}EntityType")}
    account = types["account"]
    assert [r.get("Name") for r in account.iter(f"{EDM}PropertyRef")] == ["accountid"]
    props = {p.get("Name"): p.get("Type") for p in account.iter(f"{EDM}Property")}
    assert props["accountid"] == "Edm.Guid" and props["name"] == "Edm.String"
    assert props["creditlimit"] == "Edm.Decimal" and props["createdon"] == "Edm.DateTimeOffset"
    assert props["_msdyn_company_value"] == "Edm.Guid" and props["statecode"] == "Edm.Int32"
    navs = {n.get("Name"): n.get("Type") for n in account.iter(f"{EDM}NavigationProperty")}
    assert navs["msdyn_company"] == "Microsoft.Dynamics.CRM.cdm_company"
    sets = {s.get("Name") for s in root.iter(f"{EDM}EntitySet")}
    assert {"accounts", "contacts", "cdm_companies", "transactioncurrencies"} <= sets

    for path in ("WhoAmI", "WhoAmI()"):
        me = admin.get(f"{base}/{path}").json()
        assert me["OrganizationId"] == world.environment_id
        assert {"UserId", "BusinessUnitId"} <= set(me)

    one = admin.get(
        f"{base}/EntityDefinitions(LogicalName='account')"
        "?$select=EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute"
    ).json()
    assert one["EntitySetName"] == "accounts" and one["PrimaryIdAttribute"] == "accountid"
    assert one["PrimaryNameAttribute"] == "name" and "Attributes" not in one
    keys = admin.get(f"{base}/EntityDefinitions(LogicalName='account')/Keys").json()["value"]
    assert keys[0]["KeyAttributes"] == ["accountnumber", "msdyn_company"]
    attributes = admin.get(
        f"{base}/EntityDefinitions(LogicalName='account')/Attributes?$select=LogicalName,AttributeType"
    ).json()["value"]
    kinds = {a["LogicalName"]: a["AttributeType"] for a in attributes}
    assert kinds["msdyn_company"] == "Lookup" and kinds["name"] == "String"
    many = admin.get(
        f"{base}/EntityDefinitions(LogicalName='account')/ManyToOneRelationships"
    ).json()
    assert {r["ReferencedEntity"] for r in many["value"]} >= {"cdm_company", "msdyn_customergroup"}
    one_to_many = admin.get(
        f"{base}/EntityDefinitions(LogicalName='account')/OneToManyRelationships"
    ).json()["value"]
    assert any(r["ReferencingEntity"] == "contact" for r in one_to_many)
    listing = admin.get(
        f"{base}/EntityDefinitions",
        params={
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute,CanChangeTrackingBeEnabled,"
            "ChangeTrackingEnabled",
            "$expand": "Attributes($select=LogicalName)",
            "$filter": "LogicalName eq 'contact' or LogicalName eq 'account'",
        },
    ).json()["value"]
    assert sorted(e["LogicalName"] for e in listing) == ["account", "contact"]
    assert listing[0]["CanChangeTrackingBeEnabled"]["Value"] is True
    attribute_keys = {k for a in listing[0]["Attributes"] for k in a if not k.startswith("@")}
    assert attribute_keys == {"LogicalName", "MetadataId"}
