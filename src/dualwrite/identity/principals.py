"""Who calls an environment's API (Dataverse Web API, F&O OData): a user, or a registered
application signed in with its client credentials (the dual-write application users among
them). Shared by the token service, which proves who it is, and the environment APIs, which
decide what it may do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    tenant_id: int
    object_id: str  # the directory object: a user's or an application's service principal
    user_id: int | None = None  # set for users
    app_id: str | None = None  # the client ID, set for applications

    @property
    def is_application(self) -> bool:
        return self.app_id is not None
