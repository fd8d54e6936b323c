"""Inspecting one error of the error log: the error, the source and target records as they are
now, and per mapped column the source value, what the map would write and the target's value —
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import delete, select, text, update

from backends import require_backend
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.ops.errorlog import inspect_error
from dualwrite.schemas import FieldComparison, SyncErrorDetail
from dualwrite.settings import Settings
from dualwrite.stores import dataverse as dv_schema
from dualwrite.stores import fo as fo_schema
from dualwrite.stores.generator import seed_fo
from factories import linked_world, the_link, worker_ticks

ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"
LONG_EMAIL = "e" * 140 + "@contoso.com"  # F&O takes 255 characters, Dataverse 100
LONG_NAME = "n" * 130  # Dataverse takes 160, F&O 100


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    require_backend(str(request.param))
    return str(request.param)


@pytest.fixture
def urls(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> Iterator[tuple[str, str]]:
    """Accounts running; then one error each way, both numbered 1 by the store that keeps it:
    F&O → Dataverse for US-000002 (an e-mail too long for Dataverse), Dataverse → F&O for a new
    account US-900001 (a name too long for F&O) that F&O does not have."""
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF"], customers=4)
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)
    fo, dv = make_engine(fo_url), make_engine(dv_url)
    customers, account = fo_schema.customersv3, dv_schema.account
    with fo.begin() as conn:
        conn.execute(
            update(customers)
            .where(customers.c.customeraccount == "US-000002")
            .values(primarycontactemail=LONG_EMAIL)
        )
    with dv.begin() as conn:
        company = conn.scalar(
            select(account.c.msdyn_company).where(account.c.accountnumber == "US-000001")
        )
        conn.execute(
            account.insert().values(
                accountid=str(uuid.uuid4()),
                accountnumber="US-900001",
                name=LONG_NAME,
                msdyn_company=company,
            )
        )
    fo.dispose()
    dv.dispose()
    worker_ticks(store, 3)
    yield fo_url, dv_url


def _inspect(store: ControlStore, error_id: int, direction: str | None = None) -> SyncErrorDetail:
    with store.session() as session:
        return inspect_error(the_link(session), error_id, direction)


def _field(detail: SyncErrorDetail, target_column: str) -> FieldComparison:
    return next(f for f in detail.fields if f.target_column == target_column)


def _code(store: ControlStore, error_id: int, direction: str | None = None) -> DualWriteError:
    with pytest.raises(DualWriteError) as raised:
        _inspect(store, error_id, direction)
    return raised.value


def test_an_error_to_dataverse_with_both_records_field_by_field(
    store: ControlStore, urls: tuple[str, str]
) -> None:
    detail = _inspect(store, 1, "fo_to_dv")
    assert (detail.map_name, detail.direction, detail.status) == (ACCOUNTS, "fo_to_dv", "open")
    assert "value too long for account.emailaddress1" in detail.reason
    assert detail.attempts >= 1 and detail.created_at.tzinfo is not None
    assert (detail.source_store, detail.source_table) == ("contoso-test", "customersv3")
    assert (detail.target_store, detail.target_table) == ("Sales", "account")
    assert detail.source_key["customeraccount"] == "US-000002"
    assert detail.payload and detail.payload["primarycontactemail"] == LONG_EMAIL
    assert detail.source_record and detail.source_record["primarycontactemail"] == LONG_EMAIL
    assert detail.target_record and detail.target_record["accountnumber"] == "US-000002"
    # The integration key: the company's GUID in Dataverse and the account number.
    assert detail.target_key == {
        "accountnumber": "US-000002",
        "msdyn_company": detail.target_record["msdyn_company"],
    }
    assert detail.source_note == detail.target_note == ""

    email = _field(detail, "emailaddress1")
    assert (email.kind, email.source_column, email.written) == (
        "field",
        "primarycontactemail",
        True,
    )
    assert (email.source_value, email.would_write) == (LONG_EMAIL, LONG_EMAIL)
    assert email.target_value != LONG_EMAIL and email.differs
    assert email.note == f"too long: {len(LONG_EMAIL)} characters, at most 100"
    name = _field(detail, "name")
    assert name.source_value == name.would_write == name.target_value and not name.differs
    on_hold = _field(detail, "creditonhold")  # a value map: "No" → false
    assert (on_hold.source_value, on_hold.would_write, on_hold.differs) == ("No", False, False)
    company = _field(detail, "msdyn_company")
    assert company.kind == "company" and company.source_value == "USMF"
    assert company.would_write == detail.target_record["msdyn_company"] and not company.differs
    group = _field(detail, "msdyn_customergroupid")
    assert group.kind.startswith("lookup through Customer groups")
    assert group.would_write == detail.target_record["msdyn_customergroupid"] is not None
    assert [f.target_column for f in detail.fields if f.differs] == ["emailaddress1"]


def test_an_error_to_fo_whose_record_fo_does_not_have(
    store: ControlStore, urls: tuple[str, str]
) -> None:
    detail = _inspect(store, 1, "dv_to_fo")
    assert (detail.direction, detail.source_side, detail.source_table) == (
        "dv_to_fo",
        "dataverse",
        "account",
    )
    assert "value too long for customersv3.organizationname" in detail.reason
    assert detail.target_record is None
    assert detail.target_key == {"customeraccount": "US-900001", "dataareaid": "USMF"}
    assert detail.target_note == (
        "No customersv3 record with customeraccount 'US-900001', dataareaid 'USMF' exists in "
        "contoso-test: a retry would create it."
    )
    name = _field(detail, "organizationname")
    assert (name.source_value, name.would_write, name.target_value) == (LONG_NAME, LONG_NAME, None)
    assert name.differs and name.note == "too long: 130 characters, at most 100"
    assert _field(detail, "dataareaid").would_write == "USMF"
    # Nothing exists on the target: every column the map writes differs.
    assert all(f.differs for f in detail.fields if f.written)

    # The source record deleted since: said so; the target is still looked up by the key.
    dv = make_engine(urls[1])
    with dv.begin() as conn:
        conn.execute(
            delete(dv_schema.account).where(dv_schema.account.c.accountnumber == "US-900001")
        )
    dv.dispose()
    gone = _inspect(store, 1, "dv_to_fo")
    assert gone.source_record is None
    assert gone.source_note == (
        "The account record no longer exists in Sales: a retry deletes it from contoso-test."
    )
    assert gone.target_note.endswith("exists in contoso-test.")
    assert not any(f.differs for f in gone.fields)


def test_an_id_in_both_directions_unknown_ids_and_bad_directions(
    store: ControlStore, urls: tuple[str, str]
) -> None:
    both = _code(store, 1)
    assert both.code == "DW1000" and both.status == 422
    assert "error 1 exists in both directions (fo_to_dv: Customers V3 (accounts); dv_to_fo: " in (
        both.message
    )
    unknown = _code(store, 999)
    assert (unknown.code, unknown.status) == ("DW5013", 404)
    assert unknown.message == "There is no error 999 in the error log of 'contoso-test'."
    assert "`dualwrite errors list contoso-test`" in unknown.hint
    assert _code(store, 999, "dv_to_fo").message.endswith("'contoso-test' (dv_to_fo).")
    assert _code(store, 1, "sideways").code == "DW1000"


def test_a_fixed_error_stays_inspectable_as_resolved(
    store: ControlStore, urls: tuple[str, str]
) -> None:
    fo = make_engine(urls[0])
    with fo.begin() as conn:
        conn.execute(text("UPDATE customersv3 SET primarycontactemail = 'ok@contoso.com'"))
    fo.dispose()
    worker_ticks(store, 2)
    detail = _inspect(store, 1, "fo_to_dv")
    assert detail.status == "resolved"
    email = _field(detail, "emailaddress1")
    assert email.would_write == email.target_value == "ok@contoso.com" and not email.differs


def test_an_unreachable_store_is_the_catalogue_error(
    store: ControlStore, urls: tuple[str, str], backend: str
) -> None:
    if backend == "sqlite":
        blocker = str(urls[1]).removeprefix("sqlite:///") + ".blocked"
        with open(blocker, "w"):
            pass
        away = f"sqlite:///{blocker}/dataverse.db"
    else:
        away = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    with store.session() as session:
        session.execute(text("UPDATE platform_environments SET dataverse_url = :u"), {"u": away})
    error = _code(store, 1, "dv_to_fo")
    # SQLite: the folder of the file cannot be used; PostgreSQL: the connection is refused.
    assert (error.code, error.status) == ("DW2006" if backend == "sqlite" else "DW2002", 503)
    assert "dataverse.db" in error.message or "127.0.0.1:1" in error.message
