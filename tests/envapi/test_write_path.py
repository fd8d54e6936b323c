"""The one write path on every backend: operations in one transaction, the `before_commit`
hook sees every written row inside it, and a failure there (the synchronous dual-write step's
place) leaves nothing written; Microsoft's 1,000 records per transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, create_engine, func, select

from dualwrite.envapi.dvcontext import etag_of
from dualwrite.envapi.dvmodel import dataverse_model
from dualwrite.envapi.stores import dispose_all
from dualwrite.envapi.writes import Operation, OpKind, Written, write_rows
from dualwrite.odata.errors import ODataError
from dualwrite.stores import dataverse as dv
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_dataverse


def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(dv.account)) or 0)
    finally:
        engine.dispose()


def test_before_commit_sees_rows_and_can_roll_back(
    backend: str, new_database: Callable[[str], str]
) -> None:
    url = new_database(backend)
    prepare_data_store(url, Side.DATAVERSE)
    seed_dataverse(url, legal_entities=["USMF"], accounts=3)
    accounts = dataverse_model().sets["accounts"]
    engine = create_engine(url)
    with engine.connect() as conn:
        company = conn.scalar(select(dv.cdm_company.c.cdm_companyid))
        existing = conn.scalar(select(dv.account.c.accountid).limit(1))
    engine.dispose()
    new_id = str(uuid.uuid4())
    operations = [
        Operation(
            OpKind.CREATE,
            accounts,
            {"accountid": new_id},
            {"name": "Hooked", "accountnumber": "H-1", "msdyn_company": company},
        ),
        Operation(OpKind.UPDATE, accounts, {"accountid": existing}, {"name": "Changed"}),
    ]
    seen: list[Written] = []

    def observe(conn: Connection, written: list[Written]) -> None:
        seen.extend(written)
        # Inside the transaction: the new row is visible to the hook's connection.
        assert (
            conn.scalar(select(dv.account.c.name).where(dv.account.c.accountid == new_id))
            == "Hooked"
        )

    def refuse(_conn: Connection, _written: list[Written]) -> None:
        raise ODataError(400, "Customers V3 (accounts): CustomerGroupId: no such group on F&O.")

    try:
        with pytest.raises(ODataError, match="Customers V3"):
            write_rows(url, Side.DATAVERSE, operations, etag_of=etag_of, before_commit=refuse)
        assert _count(url) == 3  # nothing of the transaction is left
        written = write_rows(
            url, Side.DATAVERSE, operations, etag_of=etag_of, before_commit=observe
        )
        assert [(w.table, w.operation) for w in seen] == [
            ("account", "create"),
            ("account", "update"),
        ]
        assert written == seen
        assert seen[0].key == {"accountid": new_id} and seen[0].previous is None
        assert seen[0].values is not None and seen[0].values["name"] == "Hooked"
        assert seen[1].previous is not None and seen[1].values is not None
        assert seen[1].values["name"] == "Changed" and seen[1].previous["name"] != "Changed"
        assert _count(url) == 4
        too_many = [operations[0]] * 1001
        with pytest.raises(ODataError, match="at most 1000"):
            write_rows(url, Side.DATAVERSE, too_many, etag_of=etag_of)
    finally:
        dispose_all()
