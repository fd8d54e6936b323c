"""LCS projects: owners, members (also from other tenants) and who sees what."""

from __future__ import annotations

import pytest

from dualwrite.control.models import ProjectRole
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.lifecycle import projects
from dualwrite.schemas import ProjectRead
from factories import add_user, bootstrap


def test_creator_owns_the_project_and_invites_members(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        owner = add_user(session, admin, "olivia")
        guest = bootstrap(session, "partner.onmicrosoft.com")
        project = projects.create_project(session, owner, "Rollout")
        assert projects.role_in(project, owner) is ProjectRole.PROJECT_OWNER
        projects.add_member(session, owner, project, guest.upn, "environment-manager")
        assert projects.role_in(project, guest) is ProjectRole.ENVIRONMENT_MANAGER
        # Members see the project; the partner's tenant does not own it.
        assert [p.name for p in projects.list_projects(session, guest)] == ["Rollout"]
        assert project.tenant_id == owner.tenant_id != guest.tenant_id


def test_only_owners_manage_members_and_the_last_owner_stays(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        owner = add_user(session, admin, "olivia")
        member = add_user(session, admin, "max")
        project = projects.create_project(session, owner, "Rollout")
        projects.add_member(session, owner, project, member.upn, "team-member")
        with pytest.raises(DualWriteError) as err:
            projects.add_member(session, member, project, member.upn, "project-owner")
        assert err.value.code == "DW3004"
        assert "Project owner" in err.value.message
        with pytest.raises(DualWriteError) as err:
            projects.remove_member(session, owner, project, owner.upn)
        assert "last Project owner" in err.value.message
        with pytest.raises(DualWriteError) as err:
            projects.add_member(session, owner, project, member.upn, "boss")
        assert err.value.code == "DW1005"


def test_projects_are_invisible_to_non_members_but_not_to_global_admins(
    store: ControlStore,
) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        owner = add_user(session, admin, "olivia")
        outsider = add_user(session, admin, "otto")
        projects.create_project(session, owner, "Rollout")
        assert projects.list_projects(session, outsider) == []
        with pytest.raises(DualWriteError) as err:
            projects.get_project(session, outsider, "Rollout")
        assert err.value.code == "DW1002"
        assert projects.get_project(session, admin, "Rollout").name == "Rollout"
        with pytest.raises(DualWriteError) as err:
            projects.create_project(session, owner, "Rollout")
        assert err.value.code == "DW1001"


def test_inviting_another_tenants_name_tells_nothing_of_that_tenant(store: ControlStore) -> None:
    """A guest is invited by name: whether such a user exists in the other tenant, the answer
    and the member list look the same; whoever holds the name is the member."""
    with store.session() as session:
        admin = bootstrap(session)
        partner = bootstrap(session, "partner.onmicrosoft.com")
        vera = add_user(session, partner, "vera")
        project = projects.create_project(session, admin, "Rollout")
        real = projects.add_member(session, admin, project, vera.upn, "team-member")
        nobody = projects.add_member(
            session, admin, project, "nobody@partner.onmicrosoft.com", "team-member"
        )
        assert type(real) is type(nobody)
        shown = ProjectRead.of(project).members
        assert [(m.upn, m.role) for m in shown if "partner" in m.upn] == [
            ("nobody@partner.onmicrosoft.com", "Team member"),
            ("vera@partner.onmicrosoft.com", "Team member"),
        ]
        assert projects.role_in(project, vera) is ProjectRole.TEAM_MEMBER
        assert [p.name for p in projects.list_projects(session, vera)] == ["Rollout"]
        projects.remove_member(session, admin, project, vera.upn)
        assert projects.list_projects(session, vera) == []
        with pytest.raises(DualWriteError) as err:
            projects.add_member(session, admin, project, "not a name", "team-member")
        assert err.value.code == "DW1000"
