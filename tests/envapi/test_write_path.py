"""The one write path on every backend: operations in one transaction, each written row
described, a failing operation leaving nothing written; Microsoft's 1,000 records per
transaction. (The synchronous dual-write step in it: test_synchronous.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, func, select

from dualwrite.envapi.dvcontext import etag_of
from dualwrite.envapi.dvmodel import dataverse_model
from dualwrite.envapi.stores import dispose_all
from dualwrite.envapi.writes import Operation, OpKind, write_rows
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


def test_operations_go_in_one_transaction_and_describe_what_they_wrote(
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
    broken = Operation(OpKind.UPDATE, accounts, {"accountid": str(uuid.uuid4())}, {"name": "x"})
    try:
        with pytest.raises(ODataError):  # the third names no row: the first two are undone
            write_rows(url, Side.DATAVERSE, [*operations, broken], etag_of=etag_of)
        assert _count(url) == 3
        seen = write_rows(url, Side.DATAVERSE, operations, etag_of=etag_of)
        assert [(w.table, w.operation) for w in seen] == [
            ("account", "create"),
            ("account", "update"),
        ]
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
