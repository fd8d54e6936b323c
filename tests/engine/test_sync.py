"""Initial and live bidirectional sync of the default maps, on every backend."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select, text, update

from dualwrite.engine import cursors
from dualwrite.engine.sync import Link
from dualwrite.engine.syncstate import change_counts
from dualwrite.maps.defaults import default_solutions
from dualwrite.maps.model import TableMap
from dualwrite.maps.validate import validate, with_dependencies
from dualwrite.stores import dataverse as dv
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side, prepare_data_store
from dualwrite.stores.generator import seed_fo

MAPS: dict[str, TableMap] = {
    m.name: m for m in validate(default_solutions(), fo.metadata, dv.metadata)
}
# Customers with every map they look up, in dependency order.
CHAIN = [m.name for m in with_dependencies(list(MAPS.values()), ["Customers V3 (accounts)"])]


@pytest.fixture
def link(backend: str, new_database: Callable[[str], str]) -> Iterator[Link]:
    fo_url, dv_url = new_database(backend), new_database(backend)
    prepare_data_store(fo_url, Side.FO)
    prepare_data_store(dv_url, Side.DATAVERSE)
    seed_fo(fo_url, legal_entities=["USMF", "DEMF"], customers=60)
    the_link = Link(fo_url, dv_url, frozenset({"USMF"}), list(MAPS.values()), batch_size=25)
    for name in CHAIN:
        the_link.initial_sync(MAPS[name], "fo")
    yield the_link
    the_link.close()


def _scalar(link: Link, side: str, sql: str, **params: object) -> object:
    engine = link.fo if side == "fo" else link.dv
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _catch_up(link: Link) -> None:
    for name in CHAIN:
        link.sync_until_idle(MAPS[name])


def test_initial_sync_copies_only_the_links_legal_entities_with_lookups(link: Link) -> None:
    usmf = _scalar(link, "fo", "SELECT count(*) FROM customersv3 WHERE dataareaid = 'USMF'")
    assert usmf == 30
    assert _scalar(link, "dv", "SELECT count(*) FROM account") == usmf
    assert _scalar(link, "dv", "SELECT count(*) FROM cdm_company") == 1
    with link.fo.connect() as conn:
        customer = (
            conn.execute(
                select(fo.customersv3).where(fo.customersv3.c.dataareaid == "USMF").limit(1)
            )
            .mappings()
            .one()
        )
    with link.dv.connect() as conn:
        account = (
            conn.execute(
                select(
                    dv.account,
                    dv.msdyn_customergroup.c.msdyn_groupid,
                    dv.cdm_company.c.cdm_companycode,
                )
                .join(
                    dv.msdyn_customergroup,
                    dv.msdyn_customergroup.c.msdyn_customergroupid
                    == dv.account.c.msdyn_customergroupid,
                )
                .join(dv.cdm_company, dv.cdm_company.c.cdm_companyid == dv.account.c.msdyn_company)
                .where(dv.account.c.accountnumber == customer["customeraccount"])
            )
            .mappings()
            .one()
        )
    assert account["name"] == customer["organizationname"]
    assert account["msdyn_groupid"] == customer["customergroupid"]
    assert account["cdm_companycode"] == "USMF"
    assert Decimal(account["creditlimit"]) == Decimal(customer["creditlimit"])
    assert account["creditonhold"] is (customer["onholdstatus"] == "Yes") or account[
        "creditonhold"
    ] == (customer["onholdstatus"] == "Yes")


def test_live_sync_both_ways_without_echo(link: Link) -> None:
    accounts = MAPS["Customers V3 (accounts)"]
    with link.fo.begin() as conn:  # a plain SQL write, as any F&O client might make
        conn.execute(
            text(
                "UPDATE customersv3 SET organizationname = 'Renamed in F&O' WHERE customeraccount = 'US-000001' AND dataareaid = 'USMF'"
            )
        )
    _catch_up(link)
    assert (
        _scalar(link, "dv", "SELECT name FROM account WHERE accountnumber = 'US-000001'")
        == "Renamed in F&O"
    )

    with link.dv.begin() as conn:
        conn.execute(
            text(
                "UPDATE account SET telephone1 = '+1-555-0100', name = 'Renamed in CRM' WHERE accountnumber = 'US-000001'"
            )
        )
    _catch_up(link)
    assert (
        _scalar(
            link,
            "fo",
            "SELECT primarycontactphone FROM customersv3 WHERE customeraccount = 'US-000001' AND dataareaid = 'USMF'",
        )
        == "+1-555-0100"
    )
    assert (
        _scalar(
            link,
            "fo",
            "SELECT organizationname FROM customersv3 WHERE customeraccount = 'US-000001' AND dataareaid = 'USMF'",
        )
        == "Renamed in CRM"
    )

    # Nothing echoes back: both positions sit at their log's head and another pass applies nothing.
    assert link.sync_until_idle(accounts) == 0
    for direction in ("fo_to_dv", "dv_to_fo"):
        assert link.position(accounts, direction) == link.head(direction)  # type: ignore[arg-type]


def test_inserts_and_deletes_propagate_and_other_companies_stay_out(link: Link) -> None:
    with link.dv.connect() as conn:
        company = conn.scalar(select(dv.cdm_company.c.cdm_companyid))
        group = conn.scalar(
            select(dv.msdyn_customergroup.c.msdyn_customergroupid).where(
                dv.msdyn_customergroup.c.msdyn_groupid == "20"
            )
        )
        usd = conn.scalar(
            select(dv.transactioncurrency.c.transactioncurrencyid).where(
                dv.transactioncurrency.c.isocurrencycode == "USD"
            )
        )
    with link.dv.begin() as conn:
        conn.execute(
            insert(dv.account),
            {
                "accountid": "9e3f0000-0000-4000-8000-000000000001",
                "accountnumber": "CRM-1",
                "name": "Made in CRM",
                "msdyn_company": company,
                "msdyn_customergroupid": group,
                "transactioncurrencyid": usd,
            },
        )
    with link.fo.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM customersv3 WHERE customeraccount = 'US-000002' AND dataareaid = 'USMF'"
            )
        )
        conn.execute(
            text(
                "UPDATE customersv3 SET organizationname = 'Germany only' WHERE dataareaid = 'DEMF'"
            )
        )
    _catch_up(link)
    assert (
        _scalar(
            link, "fo", "SELECT customergroupid FROM customersv3 WHERE customeraccount = 'CRM-1'"
        )
        == "20"
    )
    assert (
        _scalar(
            link, "fo", "SELECT salescurrencycode FROM customersv3 WHERE customeraccount = 'CRM-1'"
        )
        == "USD"
    )
    assert (
        _scalar(link, "dv", "SELECT count(*) FROM account WHERE accountnumber = 'US-000002'") == 0
    )
    assert _scalar(link, "dv", "SELECT count(*) FROM account WHERE name = 'Germany only'") == 0


def test_bad_records_go_to_the_error_log_and_can_be_retried(link: Link) -> None:
    accounts = MAPS["Customers V3 (accounts)"]
    with link.dv.begin() as conn:
        conn.execute(
            text("UPDATE account SET name = :long WHERE accountnumber = 'US-000003'"),
            {"long": "x" * 150},
        )
        conn.execute(text("UPDATE account SET name = 'Fine' WHERE accountnumber = 'US-000004'"))
    _catch_up(link)
    errors = link.open_errors(accounts, "dv_to_fo")
    assert len(errors) == 1
    assert "value too long for customersv3.organizationname" in errors[0]["reason"]
    assert errors[0]["source_key"]["accountnumber"] == "US-000003"
    # The unrelated record was not blocked.
    assert (
        _scalar(
            link,
            "fo",
            "SELECT organizationname FROM customersv3 WHERE customeraccount = 'US-000004' AND dataareaid = 'USMF'",
        )
        == "Fine"
    )
    assert link.retry_errors(accounts, "dv_to_fo") == (0, 1)
    with link.dv.begin() as conn:
        conn.execute(
            text("UPDATE account SET name = 'Short again' WHERE accountnumber = 'US-000003'")
        )
    _catch_up(link)  # the next change of the record closes its error
    assert link.open_errors(accounts, "dv_to_fo") == []


def test_missing_lookup_is_an_error_until_the_dependency_syncs(link: Link) -> None:
    accounts, groups = (
        MAPS["Customers V3 (accounts)"],
        MAPS["Customer groups (msdyn_customergroups)"],
    )
    with link.fo.begin() as conn:
        conn.execute(
            insert(fo.customergroups),
            {"dataareaid": "USMF", "customergroupid": "NEW", "description": "New group"},
        )
        conn.execute(
            update(fo.customersv3)
            .where(
                fo.customersv3.c.customeraccount == "US-000005",
                fo.customersv3.c.dataareaid == "USMF",
            )
            .values(customergroupid="NEW")
        )
    link.sync_until_idle(accounts)  # customers before their group
    (error,) = link.open_errors(accounts, "fo_to_dv")
    assert error["reason"].startswith("missing lookup")
    link.sync_until_idle(groups)
    assert link.retry_errors(accounts, "fo_to_dv") == (1, 0)
    assert (
        _scalar(
            link,
            "dv",
            "SELECT count(*) FROM account a JOIN msdyn_customergroup g ON g.msdyn_customergroupid = a.msdyn_customergroupid WHERE g.msdyn_groupid = 'NEW'",
        )
        == 1
    )


def test_replaying_a_batch_is_harmless(link: Link) -> None:
    """Positions commit with the rows; even a forced replay upserts the same state."""
    accounts = MAPS["Customers V3 (accounts)"]
    with link.fo.begin() as conn:
        conn.execute(
            text("UPDATE customersv3 SET addresscity = 'Replay' WHERE dataareaid = 'USMF'")
        )
    _catch_up(link)
    before = _scalar(link, "dv", "SELECT count(*) FROM account")
    with link.dv.connect() as conn:
        taken = change_counts(conn, accounts.name, "fo_to_dv")[0]
    with link.dv.begin() as conn:  # pretend the position was lost: replay everything
        conn.execute(text("UPDATE dw_sync_state SET position = 0"))
    with link.fo.begin() as conn:  # the next batch finds the position moved and starts over
        conn.execute(text("UPDATE customersv3 SET addresscity = 'Replay' WHERE recid = 1"))
    _catch_up(link)
    with link.dv.connect() as conn:
        assert change_counts(conn, accounts.name, "fo_to_dv")[0] > taken + 1  # replayed
    assert _scalar(link, "dv", "SELECT count(*) FROM account") == before
    assert (
        _scalar(link, "dv", "SELECT count(*) FROM account WHERE address1_city = 'Replay'") == before
    )
    assert link.open_errors(accounts, "fo_to_dv") == []
    with link.fo.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(fo.customersv3)) == 60


def test_counters_tell_written_changes_from_skipped_ones(link: Link) -> None:
    """Changes to records out of the map's scope (another legal entity, persons for accounts) are
    taken and counted as skipped, not applied; a data store set up before skipped changes were
    counted gets the column with its counts kept."""
    accounts = MAPS["Customers V3 (accounts)"]
    with link.dv.connect() as conn:
        before = change_counts(conn, accounts.name, "fo_to_dv")
    with link.fo.begin() as conn:
        changed = conn.execute(text("UPDATE customersv3 SET addresscity = 'Counted'")).rowcount
    in_scope = _scalar(
        link,
        "fo",
        "SELECT count(*) FROM customersv3 WHERE partytype = 'Organization' AND dataareaid = 'USMF'",
    )
    assert 0 < in_scope < changed  # type: ignore[operator]
    _catch_up(link)
    with link.dv.connect() as conn:
        after = change_counts(conn, accounts.name, "fo_to_dv")
    counted = tuple(a - b for a, b in zip(after, before, strict=True))
    assert counted == (changed, in_scope, 0, changed - in_scope)  # type: ignore[operator]

    with link.dv.begin() as conn:  # as an earlier version left it
        conn.execute(text("ALTER TABLE dw_sync_counters DROP COLUMN skipped"))
    one = _scalar(
        link,
        "fo",
        "SELECT min(customeraccount) FROM customersv3 "
        "WHERE partytype = 'Organization' AND dataareaid = 'USMF'",
    )
    with link.fo.begin() as conn:
        conn.execute(
            text("UPDATE customersv3 SET addresscity = 'Upgraded' WHERE customeraccount = :a"),
            {"a": one},
        )
    upgraded = Link(link.fo_url, link.dv_url, link.legal_entities, list(MAPS.values()))
    try:  # the new version's worker adds the column and goes on counting from what was there
        upgraded.sync_until_idle(accounts)
    finally:
        upgraded.close()
    with link.dv.connect() as conn:
        assert change_counts(conn, accounts.name, "fo_to_dv") == (
            after[0] + 1,
            after[1] + 1,
            after[2],
            0,
        )


def test_a_second_worker_never_applies_a_batch_twice(link: Link) -> None:
    """Two links on the same stores (two workers): each batch's position is stored only if it is
    still the one the batch started from, so the slower one's batch is rolled back entirely."""
    accounts = MAPS["Customers V3 (accounts)"]
    link.batch_size = 100  # all 30 changes in one batch
    other = Link(link.fo_url, link.dv_url, link.legal_entities, list(MAPS.values()))
    try:
        assert other.sync_batch(accounts, "fo_to_dv").position == link.head("fo_to_dv")
        with link.dv.connect() as conn:
            before = change_counts(conn, accounts.name, "fo_to_dv")
        with link.fo.begin() as conn:
            conn.execute(
                text("UPDATE customersv3 SET addresscity = 'Twice?' WHERE dataareaid = 'USMF'")
            )
        first = link.sync_batch(accounts, "fo_to_dv")
        assert first.applied == 30
        second = other.sync_batch(accounts, "fo_to_dv")  # started from the old position
        assert (second.applied, second.position) == (0, first.position)
        with link.dv.connect() as conn:
            after = change_counts(conn, accounts.name, "fo_to_dv")
        assert tuple(a - b for a, b in zip(after, before, strict=True)) == (30, 30, 0, 0)
    finally:
        other.close()


def test_other_maps_changes_cost_no_target_write_and_replay_as_nothing(
    link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A map reads past the changes of other maps sharing its source without storing its
    position each time; a restart from the stored one finds nothing to apply, and the map's
    next change of its own (or a long enough run of others') stores it."""
    currencies = MAPS["Currencies (transactioncurrencies)"]
    link.sync_until_idle(currencies)
    stored = link.position(currencies, "fo_to_dv")
    with link.fo.begin() as conn:
        conn.execute(text("UPDATE customersv3 SET addresscity = 'Elsewhere'"))
    assert link.sync_until_idle(currencies) == 0
    assert link.position(currencies, "fo_to_dv") == stored < link.head("fo_to_dv")
    restarted = Link(link.fo_url, link.dv_url, link.legal_entities, list(MAPS.values()))
    try:
        assert restarted.sync_until_idle(currencies) == 0
    finally:
        restarted.close()
    with link.fo.begin() as conn:
        conn.execute(text("UPDATE currencies SET symbol = 'US$' WHERE currencycode = 'USD'"))
    assert link.sync_until_idle(currencies) == 1
    assert link.position(currencies, "fo_to_dv") == link.head("fo_to_dv")
    assert (
        _scalar(
            link,
            "dv",
            "SELECT currencysymbol FROM transactioncurrency WHERE isocurrencycode = 'USD'",
        )
        == "US$"
    )
    monkeypatch.setattr(cursors, "STORE_SKIPPED_EVERY", 1)
    with link.fo.begin() as conn:
        conn.execute(text("UPDATE customersv3 SET addresscity = 'Again'"))
    link.sync_until_idle(currencies)
    assert link.position(currencies, "fo_to_dv") == link.head("fo_to_dv")


def test_one_scan_of_the_source_spares_maps_with_nothing_to_do_their_reads(link: Link) -> None:
    accounts, currencies = (
        MAPS["Customers V3 (accounts)"],
        MAPS["Currencies (transactioncurrencies)"],
    )
    for tmap in (accounts, currencies):
        link.sync_until_idle(tmap)
    with link.fo.begin() as conn:
        conn.execute(text("UPDATE customersv3 SET addresscity = 'Scanned' WHERE recid = 1"))
    scan = link.scan([accounts, currencies])["fo_to_dv"]
    read: list[str] = []
    event.listen(link.fo, "before_cursor_execute", lambda *args: read.append(args[2]))
    assert link.sync_batch(currencies, "fo_to_dv", scan).applied == 0
    assert read == []  # the scan said there was nothing of the currencies' to read
    assert link.sync_batch(accounts, "fo_to_dv", scan).applied == 1
    assert read
    with link.fo.begin() as conn:  # after the scan: the next scan shows it
        conn.execute(text("UPDATE currencies SET symbol = 'US$' WHERE currencycode = 'USD'"))
    assert link.sync_batch(currencies, "fo_to_dv", scan).applied == 0
    assert link.sync_batch(currencies, "fo_to_dv", link.scan([currencies])["fo_to_dv"]).applied == 1


def test_maps_on_one_table_share_a_pass_read_and_store_what_their_filters_leave_out(
    link: Link,
) -> None:
    """Accounts (organisations) and contacts (persons) both read customers: in one worker pass
    the second reads nothing itself, and organisations' changes move the contacts' position
    without a write (counted as skipped: taken, neither applied nor failed)."""
    accounts, contacts = MAPS["Customers V3 (accounts)"], MAPS["Customers V3 (contacts)"]
    for tmap in (accounts, contacts):
        link.sync_until_idle(tmap)
    with link.dv.connect() as conn:
        before = change_counts(conn, contacts.name, "fo_to_dv")
    changed = "UPDATE customersv3 SET addresscity = 'Shared' WHERE partytype = 'Organization'"
    with link.fo.begin() as conn:
        organizations = conn.execute(text(changed)).rowcount
    assert organizations > 0
    reads: list[str] = []
    event.listen(link.fo, "before_cursor_execute", lambda *args: reads.append(args[2]))
    for _ in range(20):
        scan = link.scan([accounts, contacts])["fo_to_dv"]
        link.sync_batch(accounts, "fo_to_dv", scan)
        read_by_accounts = len(reads)
        last = link.sync_batch(contacts, "fo_to_dv", scan)
        assert len(reads) == read_by_accounts  # contacts used the accounts' read
        if last.position == link.head("fo_to_dv"):
            break
    assert link.position(contacts, "fo_to_dv") == link.head("fo_to_dv")
    with link.dv.connect() as conn:
        after = change_counts(conn, contacts.name, "fo_to_dv")
    counted = tuple(a - b for a, b in zip(after, before, strict=True))
    assert counted == (organizations, 0, 0, organizations)  # taken, applied, failed, skipped
    assert _scalar(link, "dv", "SELECT count(*) FROM account WHERE address1_city = 'Shared'") == (
        _scalar(
            link,
            "fo",
            "SELECT count(*) FROM customersv3 WHERE partytype = 'Organization' "
            "AND dataareaid = 'USMF'",
        )
    )


def test_initial_sync_logs_bad_records_and_copies_the_rest(link: Link) -> None:
    accounts = MAPS["Customers V3 (accounts)"]
    with link.fo.begin() as conn:
        conn.execute(
            insert(fo.customergroups),
            {"dataareaid": "USMF", "customergroupid": "ZZ", "description": "Only in F&O"},
        )
        base = {"dataareaid": "USMF", "salescurrencycode": "USD", "customergroupid": "10"}
        conn.execute(
            insert(fo.customersv3),
            [
                {
                    **base,
                    "customeraccount": "X-NONAME",
                    "organizationname": None,
                },  # Dataverse needs a name
                {
                    **base,
                    "customeraccount": "X-NOGROUP",
                    "organizationname": "No group",
                    "customergroupid": "ZZ",
                },
                {**base, "customeraccount": "X-FINE", "organizationname": "Fine"},
            ],
        )
    with link.dv.begin() as conn:
        conn.execute(text("DELETE FROM account"))
    link.initial_sync(accounts, "fo")
    reasons = {
        e["source_key"]["recid"]: e["reason"] for e in link.open_errors(accounts, "fo_to_dv")
    }
    assert len(reasons) == 2
    assert any(r.startswith("missing lookup") for r in reasons.values())
    # The log keeps whole source records, also the columns the map does not read.
    for error in link.open_errors(accounts, "fo_to_dv"):
        payload = json.loads(error["payload"])
        assert {c.name for c in fo.customersv3.columns} <= set(payload)
        assert payload["personfirstname"] is None and payload["modifieddatetime"]
    assert _scalar(link, "dv", "SELECT count(*) FROM account") == 31
    assert _scalar(link, "dv", "SELECT count(*) FROM account WHERE accountnumber = 'X-FINE'") == 1
