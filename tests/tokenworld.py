"""A world for the token service's tests: contoso (an F&O environment linked to a Dataverse,
so the dual-write application is installed, and a registered application with a secret) and
fabrikam (environments and an application of its own). Built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from dualwrite.control.models import ApplicationUser
from dualwrite.control.store import ControlStore
from dualwrite.identity import apps, directory
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from factories import PASSWORD, add_user, bootstrap, linked_world

CONTOSO = "contoso.onmicrosoft.com"
FABRIKAM = "fabrikam.onmicrosoft.com"


@dataclass(frozen=True)
class Tenant:
    domain: str
    directory_id: str
    fo_env: str
    dataverse_id: str
    client_id: str
    secret: str
    admin: str  # UPN; every user's password is PASSWORD


@dataclass(frozen=True)
class TokenWorld:
    contoso: Tenant
    fabrikam: Tenant
    dualwrite_client_id: str  # contoso's dual-write application (no secret yet)
    user: str  # joe@contoso, a plain user
    password: str = PASSWORD


def build(store: ControlStore, settings: Settings, folder: Path) -> TokenWorld:
    with store.session() as session:
        link = linked_world(
            session, settings, f"sqlite:///{folder / 'fo.db'}", f"sqlite:///{folder / 'dv.db'}"
        )
        admin = directory.get_user(session, f"admin@{CONTOSO}")
        add_user(session, admin, "joe")
        app, made = apps.create_application(session, admin, "Contoso integration")
        contoso = Tenant(
            CONTOSO,
            admin.tenant.directory_id,
            link.fo_environment.name,
            link.platform_environment_id,
            app.client_id,
            made.value,
            admin.upn,
        )
        dualwrite_id = session.scalars(select(ApplicationUser.application_id)).first() or ""
        other = bootstrap(session, FABRIKAM)
        project = projects.create_project(session, other, "Fabrikam ERP")
        env = environments.deploy_environment(
            session,
            settings,
            other,
            project,
            EnvironmentSpec(name="fabrikam-env"),  # not an operator: stores in the home
        )
        dataverse = platform.create_environment(
            session,
            settings,
            other,
            name="Fabrikam Sales",
            region="West US",
            dataverse=True,
        )
        other_app, other_made = apps.create_application(session, other, "Fabrikam integration")
        fabrikam = Tenant(
            FABRIKAM,
            other.tenant.directory_id,
            env.name,
            dataverse.id,
            other_app.client_id,
            other_made.value,
            other.upn,
        )
    return TokenWorld(contoso, fabrikam, dualwrite_id, f"joe@{CONTOSO}")
