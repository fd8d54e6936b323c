"""The world the fuzz tests send their requests into, and what they draw values from.

Every setup flow is done (project, F&O environment linked to a Dataverse, default maps), the
accounts map runs with records on both sides and one error in each direction's log, and there
is a plain user without roles or licenses. `NAMES` holds the world's real names per parameter
name, so generated requests get past "not found" into the code behind it; `nasty()` is
everything else a client can type."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from hypothesis import strategies as st
from sqlalchemy import select, update

from dualwrite.bounds import MAX_BIGINT
from dualwrite.control.models import Job
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.settings import Settings
from dualwrite.stores import dataverse as dv_schema
from dualwrite.stores import fo as fo_schema
from dualwrite.stores.generator import seed_fo
from factories import PASSWORD, add_user, linked_world, the_link, worker_ticks

DOMAIN = "contoso.onmicrosoft.com"
ADMIN = f"admin@{DOMAIN}"
PLAIN = f"joe@{DOMAIN}"  # no directory role, no license, no project or environment role
USERS = {"admin": ADMIN, "plain": PLAIN}
ACCOUNTS = "Customers V3 (accounts)"
MAPS = [ACCOUNTS, "Vendors V2 (msdyn_vendors)", "Customer groups (msdyn_customergroups)"]

# Real values per parameter name (path, query or form), as routes name them.
NAMES: dict[str, list[str]] = {
    "env": ["contoso-test"],
    "owner": ["contoso-test", "Sales"],  # records of an F&O environment or of a Dataverse
    "name": ["contoso-test", "Rollout", *MAPS],
    "map": MAPS,
    "maps": MAPS,
    "project": ["Rollout"],
    "domain": [DOMAIN],
    "upn": [ADMIN, PLAIN],
    "by": [ADMIN, "sync worker"],
    "role": ["global-admin", "power-platform-admin", "environment-manager", "dualwrite-user"],
    "sku": ["D365_FINANCE", "D365_SCM"],
    "side": ["fo", "dataverse"],
    "kind": ["customers", "accounts", "currencies", "state", "configuration"],
    "direction": ["fo_to_dv", "dv_to_fo"],
    "dataverse": ["Sales"],
    "platform_environment": ["Sales"],
    "dataverse_field": ["name", "accountnumber", "emailaddress1"],
    "legal_entities": ["USMF", "DEMF"],
    "action": ["run", "pause", "resume", "stop", "notify", "save", "reset"],
    "error_id": ["1"],
    "id": ["1"],
    "job_id": ["1"],
    "record_id": ["1", "2"],
    "q": ["US", "%", "_"],
}
# Where the segment before a parameter says more than its name ({name} of a project or a map).
BY_SEGMENT: dict[str, list[str]] = {
    "environments": ["contoso-test"],
    "projects": ["Rollout"],
    "maps": MAPS,
    "platform": ["Sales"],
}


def real_names(path: str, parameter: str) -> list[str]:
    """The world's names for a parameter of the route `path` (e.g. /projects/{name})."""
    before = path.split(f"{{{parameter}}}")[0].rstrip("/").rsplit("/", 1)[-1]
    if before == "environments" and "/platform/" in path:
        return ["Sales"]
    return BY_SEGMENT.get(before) or NAMES.get(parameter, [])


def nasty() -> st.SearchStrategy[str]:
    """What else a client can send: huge and negative integers, LIKE wildcards, escapes,
    unicode, empty and blank text, path tricks, and random text."""
    integers = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([-1, 0, MAX_BIGINT, MAX_BIGINT + 1, 2**31, 10**20]),
    ).map(str)
    return st.one_of(
        integers,
        st.sampled_from(
            ["", " ", "%", "_", "\\", "%_%", "'", '"', "..", "²", "١٢", "é☃", "\u200b", "null"]
        ),
        st.text(max_size=30),
    )


def value_of(path: str, parameter: str) -> st.SearchStrategy[str]:
    """A real name for the parameter when the world has one, or anything nasty."""
    real = real_names(path, parameter)
    return st.one_of(st.sampled_from(real), nasty()) if real else nasty()


def build(store: ControlStore, settings: Settings) -> None:
    """The world in an empty control store (upgraded here), its data stores on SQLite."""
    store.upgrade()
    fo_url, dv_url = (f"sqlite:///{settings.home / name}" for name in ("fo.db", "dv.db"))
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        admin = directory.get_user(session, ADMIN)
        add_user(session, admin, "joe")
    seed_fo(fo_url, legal_entities=["USMF"], customers=3)
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker_ticks(store)
    _an_error_each_way(fo_url, dv_url)
    worker_ticks(store, 3)
    with store.session() as session:
        NAMES["job_id"] = [str(j) for j in session.scalars(select(Job.id))] or ["1"]


def _an_error_each_way(fo_url: str, dv_url: str) -> None:
    """An e-mail too long for Dataverse, and a Dataverse name too long for F&O."""
    fo, dv = make_engine(fo_url), make_engine(dv_url)
    customers, account = fo_schema.customersv3, dv_schema.account
    try:
        with fo.begin() as conn:
            first = conn.scalar(select(customers.c.customeraccount).limit(1))
            conn.execute(
                update(customers)
                .where(customers.c.customeraccount == first)
                .values(primarycontactemail="e" * 140 + "@contoso.com")
            )
        with dv.begin() as conn:
            company = conn.scalar(select(account.c.msdyn_company).limit(1))
            conn.execute(
                account.insert().values(
                    accountid=str(uuid.uuid4()),
                    accountnumber="US-900001",
                    name="n" * 130,
                    msdyn_company=company,
                )
            )
    finally:
        fo.dispose()
        dv.dispose()


def sign_in_body(user: str) -> dict[str, str]:
    return {"upn": USERS[user], "password": PASSWORD}


class Snapshot:
    """The world's SQLite files as they were built, put back after a request that may have
    changed them: every generated request meets the same world. Otherwise one fuzzed DELETE
    with a real name (a project member, a license) changes what every later request sees."""

    def __init__(self, store: ControlStore, home: Path) -> None:
        self.store, self.home = store, home
        self.saved = home.with_name(f"{home.name}-snapshot")
        store.dispose()  # the last connection to close checkpoints the WAL into the file
        for path in self._databases(home):
            copy = self.saved / path.relative_to(home)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)

    @staticmethod
    def _databases(folder: Path) -> list[Path]:
        return sorted(folder.rglob("*.db"))

    def restore(self) -> None:
        self.store.dispose()
        kept = {p.relative_to(self.saved) for p in self._databases(self.saved)}
        for path in self._databases(self.home):
            for leftover in (path.with_name(path.name + s) for s in ("-wal", "-shm")):
                leftover.unlink(missing_ok=True)
            if path.relative_to(self.home) not in kept:  # a data store a request created
                path.unlink()
        for relative in kept:
            shutil.copyfile(self.saved / relative, self.home / relative)

    def remove(self) -> None:
        shutil.rmtree(self.saved, ignore_errors=True)
