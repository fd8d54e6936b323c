"""Bad input of every kind answers in the platform's error shape with a 4xx naming the fault —
never a 500 — and typed literals compare right on every backend."""

from __future__ import annotations

import httpx

from envapi.conftest import ACCOUNTS, World

DATAVERSE_QUERIES = [
    "$filter=name eq 'unterminated",
    "$filter=((name eq 'x')",
    "$filter=name eq 'x' and",
    "$filter=contains(name)",
    "$filter=contains(creditlimit,'1')",
    "$filter=substringof('a',name)",
    "$filter=primarycontactid/fullname eq 'x'",
    "$filter=statecode eq 99999999999999999999999",
    "$filter=statecode gt 'a'",
    "$filter=createdon gt 2024-13-45T00:00:00Z",
    "$filter=accountid eq 1234",
    "$filter=creditonhold gt true",
    "$filter=name in ('a', 1)",
    "$filter=Microsoft.Dynamics.CRM.Yes'x' eq name",
    "$filter=" + "name eq 'x' or " * 700 + "name eq 'y'",
    "$orderby=name sideways",
    "$orderby=nope",
    "$select=name,",
    "$select=na me",
    "$top=abc",
    "$top=99999999999999999999",
    "$count=maybe",
    "$expand=msdyn_company($filter=x eq 1)",
    "$expand=msdyn_company($select=nope)",
    "$skiptoken=garbage",
    "$deltatoken=garbage",
    "$top=1&$top=2",
]
DATAVERSE_PATHS = [
    "accounts(",
    "accounts()",
    "accounts(accountnumber=)",
    "accounts(accountnumber='a',accountnumber='b')",
    "accounts(00000000-0000-0000-0000-000000000000)/nope",
    "accounts/$count/more",
    "accounts(x='1')",
    "EntityDefinitions(LogicalName='nope')",
    "EntityDefinitions(LogicalName='account')/Nope",
    "%E2%9C%93",
]
FO_QUERIES = [
    "$filter=CustomerAccount eq",
    "$filter=CreditLimitIsUnlimited eq Microsoft.Dynamics.DataEntities.NoYes'Maybe'",
    "$filter=CreditLimit eq 'x'",
    "$skip=-1",
    "cross-company=perhaps",
    "$expand=Nope",
]


def _shaped(response: httpx.Response, dataverse: bool) -> None:
    assert 400 <= response.status_code < 500, (response.request.url, response.text)
    error = response.json()["error"]
    assert error["message"]
    if dataverse:
        assert error["code"].startswith("0x"), error
    else:
        assert error["code"] == "" and "innererror" in error


def test_bad_input_never_a_500(world: World, admin: httpx.Client) -> None:
    for query in DATAVERSE_QUERIES:
        _shaped(admin.get(f"{world.dataverse}/accounts?{query}"), dataverse=True)
    for path in DATAVERSE_PATHS:
        _shaped(admin.get(f"{world.dataverse}/{path}"), dataverse=True)
    for query in FO_QUERIES:
        _shaped(admin.get(f"{world.fo}/CustomersV3?{query}"), dataverse=False)
    bodies = [b"", b"null", b"[]", b'{"name":', b"\xff\xfe", b'{"name": {"a": 1}}']
    for body in bodies:
        posted = admin.post(
            f"{world.dataverse}/accounts",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        _shaped(posted, dataverse=True)
        fo_posted = admin.post(
            f"{world.fo}/CustomersV3", content=body, headers={"Content-Type": "application/json"}
        )
        _shaped(fo_posted, dataverse=False)
    _shaped(admin.put(f"{world.dataverse}/accounts", json={}), dataverse=True)
    _shaped(admin.delete(f"{world.fo}/CustomersV3"), dataverse=False)
    _shaped(admin.get(f"{world.dataverse}/$batch"), dataverse=True)


def test_typed_literals(world: World, admin: httpx.Client) -> None:
    base = world.dataverse
    after = admin.get(f"{base}/accounts?$filter=createdon gt 2000-01-01T00:00:00Z&$count=true")
    assert after.json()["@odata.count"] == ACCOUNTS
    before = admin.get(f"{base}/accounts?$filter=modifiedon lt 2000-01-01&$count=true")
    assert before.json()["@odata.count"] == 0
    offset = admin.get(
        f"{base}/accounts?$filter=createdon lt 2999-01-01T00:00:00%2B02:00&$count=true"
    )
    assert offset.json()["@odata.count"] == ACCOUNTS
    numbers = admin.get(
        f"{base}/accounts?$filter=creditlimit ge 0.5 and statecode ne 1&$count=true"
    )
    assert numbers.status_code == 200
    unquoted = admin.get(
        f"{base}/accounts?$filter=accountid ne 00000000-0000-0000-0000-000000000000&$count=true"
    )
    assert unquoted.json()["@odata.count"] == ACCOUNTS
