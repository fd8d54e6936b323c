"""What every Dataverse Web API handler works with: the caller's grant, the service root, the
store's engine and the reading flavor (ETags, paging limits, literal conventions)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine

from dualwrite.envapi.access import DataverseGrant
from dualwrite.envapi.dvmodel import dataverse_model
from dualwrite.envapi.stores import engine_for
from dualwrite.link.live_writes import LiveSync
from dualwrite.odata.etags import version_etag
from dualwrite.odata.filters import Dialect
from dualwrite.odata.model import EntitySet, ServiceModel
from dualwrite.odata.reader import Flavor

MAX_PAGE = 5000  # Dataverse's default and largest page


def version_column(entity: EntitySet) -> Column[Any]:
    """The row version an ETag comes from: versionnumber where the schema has it."""
    table = entity.table
    return table.c["versionnumber"] if "versionnumber" in table.c else table.c["modifiedon"]


def _etag_columns(entity: EntitySet) -> Sequence[Column[Any]]:
    return (version_column(entity),)


def _etag(values: Sequence[Any]) -> str:
    return version_etag(values[0])


@functools.cache
def dataverse_flavor(dialect: str) -> Flavor:
    return Flavor(
        dialect=Dialect({}, wildcards=False, aware_datetimes=dialect == "postgresql"),
        etag_columns=_etag_columns,
        etag=_etag,
        etag_one=version_etag,
        always_key=True,
        default_page=MAX_PAGE,
        max_page=MAX_PAGE,
        count_cap=MAX_PAGE,
    )


def etag_of(entity: EntitySet, row: dict[str, Any]) -> str:
    return version_etag(row[version_column(entity).name])


@dataclass(frozen=True)
class DvContext:
    grant: DataverseGrant
    base: str  # the service root as the client addressed it: …/api/data/v9.2
    secret: str
    # Synchronous dual-write: the link's running maps from this side (see writes.py).
    live_sync: LiveSync | None = None

    @property
    def model(self) -> ServiceModel:
        return dataverse_model()

    @property
    def engine(self) -> Engine:
        return engine_for(self.grant.store_url)

    @property
    def flavor(self) -> Flavor:
        return dataverse_flavor(self.engine.dialect.name)

    def context(self, fragment: str) -> str:
        return f"{self.base}/$metadata#{fragment}"
