"""verify_access_token, what the environment APIs call: a good token names its caller; an
expired, misdirected, foreign, tampered or orphaned one is refused with DW3008 saying why.
And the WWW-Authenticate challenge of their 401s, and the resource URLs they are called on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import Project, RegisteredApplication, SigningKey, Tenant, User
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity import apps, directory, signing, tokens
from dualwrite.identity.principals import Principal
from dualwrite.identity.resources import (
    Resource,
    ResourceKind,
    api_root,
    find_resource,
    normalise_resource,
    resource_url,
)
from dualwrite.identity.tokens import TokenVersion, verify_access_token, www_authenticate
from dualwrite.lifecycle import environments
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from factories import bootstrap
from tokenworld import CONTOSO, FABRIKAM, TokenWorld, build

BASE = "https://127.0.0.1:8443"


@pytest.fixture
def tw(store: ControlStore, settings: Settings, tmp_path: Path) -> TokenWorld:
    return build(store, settings, tmp_path)


def _fo(tw: TokenWorld) -> str:
    return f"{BASE}/environments/{tw.contoso.fo_env}"


def _tenant(session: Session, domain: str) -> Tenant:
    return directory.get_tenant(session, domain)


def _resource(session: Session, url: str) -> Resource:
    found = find_resource(session, _tenant(session, CONTOSO), url)
    assert found is not None, url
    return found


def _app(session: Session, client_id: str) -> RegisteredApplication:
    return session.scalars(
        select(RegisteredApplication).where(RegisteredApplication.client_id == client_id)
    ).one()


def _app_token(
    store: ControlStore, settings: Settings, tw: TokenWorld, audience: str, **version: Any
) -> str:
    with store.session() as session:
        minted = tokens.mint_app_token(
            session,
            settings,
            base=BASE,
            tenant=_tenant(session, CONTOSO),
            app=_app(session, tw.contoso.client_id),
            resource=_resource(session, audience),
            version=version.get("version", TokenVersion.V2),
            roles=[],
        )
    return minted.access_token


def _user_token(store: ControlStore, settings: Settings, tw: TokenWorld, audience: str) -> str:
    with store.session() as session:
        minted = tokens.mint_user_token(
            session,
            settings,
            base=BASE,
            tenant=_tenant(session, CONTOSO),
            user=directory.get_user(session, tw.user),
            app=_app(session, tw.contoso.client_id),
            resource=_resource(session, audience),
            version=TokenVersion.V1,
            with_secret=False,
        )
    return minted.access_token


def _verify(store: ControlStore, token: str, audience: str) -> Principal:
    with store.session() as session:
        return verify_access_token(session, token, audience)


def _refused(store: ControlStore, token: str, audience: str) -> str:
    with pytest.raises(DualWriteError) as caught:
        _verify(store, token, audience)
    assert (caught.value.code, caught.value.status) == ("DW3008", 401)
    return caught.value.message


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _resign(store: ControlStore, settings: Settings, claims: dict[str, Any]) -> str:
    with store.session() as session:
        return tokens.sign(session, settings, claims)


def test_a_good_app_token_names_the_application(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    token = _app_token(store, settings, tw, _fo(tw) + "/")
    principal = _verify(store, token, _fo(tw))
    with store.session() as session:
        app = _app(session, tw.contoso.client_id)
        assert principal == Principal(app.tenant_id, app.object_id, app_id=app.client_id)
    claims = _claims(token)
    assert claims["aud"] == _fo(tw)  # normalised: no trailing slash
    assert claims["iss"] == f"{BASE}/{tw.contoso.directory_id}/v2.0"
    assert (claims["idtyp"], claims["azp"], claims["ver"]) == ("app", tw.contoso.client_id, "2.0")
    assert claims["exp"] - claims["iat"] == 3600
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == header["x5t"]
    # The audience may be spelled as clients do: trailing slash, upper-case host.
    assert _verify(store, token, f"{BASE.upper()}/environments/{tw.contoso.fo_env}/") == principal


def test_a_good_v1_user_token_names_the_user(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    audience = f"{BASE}/dataverse/{tw.contoso.dataverse_id}"
    token = _user_token(store, settings, tw, audience)
    principal = _verify(store, token, audience)
    with store.session() as session:
        joe = directory.get_user(session, tw.user)
        assert principal == Principal(joe.tenant_id, joe.object_id, user_id=joe.id)
    claims = _claims(token)
    assert claims["iss"] == f"{BASE}/{tw.contoso.directory_id}/"
    assert (claims["upn"], claims["unique_name"], claims["name"]) == (tw.user, tw.user, "Joe")
    assert (claims["idtyp"], claims["appid"], claims["scp"]) == (
        "user",
        tw.contoso.client_id,
        "user_impersonation",
    )


def _shifted(seconds: int) -> Callable[[dict[str, Any]], None]:
    def shift(claims: dict[str, Any]) -> None:
        for name in ("iat", "nbf", "exp"):
            claims[name] += seconds

    return shift


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_shifted(-3600 - 61), "it has expired"),
        (_shifted(120), "it is not valid yet"),
        (lambda c: c.update(iss="https://elsewhere/x/v2.0"), "it was issued by another issuer"),
        (lambda c: c.pop("tid"), "it has no 'tid' claim"),
        (lambda c: c.update(tid="00000000-0000-0000-0000-000000000000"), "tenant does not exist"),
        (lambda c: c.update(oid="00000000-0000-0000-0000-000000000001"), "no longer registered"),
    ],
    ids=["expired", "not-yet", "issuer", "no-tid", "unknown-tenant", "unknown-app"],
)
def test_claims_that_do_not_hold_are_refused(
    store: ControlStore,
    settings: Settings,
    tw: TokenWorld,
    change: Callable[[dict[str, Any]], None],
    problem: str,
) -> None:
    claims = _claims(_app_token(store, settings, tw, _fo(tw)))
    change(claims)
    assert problem in _refused(store, _resign(store, settings, claims), _fo(tw))


def test_an_expired_token_within_the_leeway_still_verifies(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    claims = _claims(_app_token(store, settings, tw, _fo(tw)))
    _shifted(-3600 - 30)(claims)  # expired 30 s ago: the leeway is a minute
    assert _verify(store, _resign(store, settings, claims), _fo(tw)).app_id == tw.contoso.client_id


def test_a_token_for_another_environment_is_refused(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    token = _app_token(store, settings, tw, f"{BASE}/dataverse/{tw.contoso.dataverse_id}")
    assert "another audience" in _refused(store, token, _fo(tw))
    assert "another audience" in _refused(store, token, _fo(tw).replace("https", "http"))


def test_another_tenants_token_for_this_environment_is_refused(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    """Signed by us, naming contoso's environment, but issued to fabrikam's application."""
    claims = _claims(_app_token(store, settings, tw, _fo(tw)))
    with store.session() as session:
        fabrikam = _tenant(session, FABRIKAM)
        other = _app(session, tw.fabrikam.client_id)
        claims.update(
            tid=fabrikam.directory_id,
            iss=tokens.issuer(BASE, fabrikam, TokenVersion.V2),
            azp=other.client_id,
            oid=other.object_id,
            sub=other.object_id,
        )
    token = _resign(store, settings, claims)
    assert "issued by another tenant" in _refused(store, token, _fo(tw))
    dataverse = f"{BASE}/dataverse/{tw.contoso.dataverse_id}"
    claims["aud"] = dataverse
    assert "issued by another tenant" in _refused(
        store, _resign(store, settings, claims), dataverse
    )


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_tampered_token_is_refused(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    header, payload, signature = _segments(_app_token(store, settings, tw, _fo(tw)))
    claims = _claims(f"{header}.{payload}.{signature}")
    claims["roles"] = ["System Administrator"]
    forged = f"{header}.{_b64(claims)}.{signature}"
    assert "signature does not match" in _refused(store, forged, _fo(tw))
    flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    assert "signature does not match" in _refused(store, f"{header}.{payload}.{flipped}", _fo(tw))
    assert "not a JWT" in _refused(store, "not-a-token", _fo(tw))


def test_tokens_signed_by_other_keys_or_algorithms_are_refused(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    good = _app_token(store, settings, tw, _fo(tw))
    claims, kid = _claims(good), jwt.get_unverified_header(good)["kid"]
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unknown = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "unknown-kid"})
    assert "unknown or retired key" in _refused(store, unknown, _fo(tw))
    posing = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": kid})
    assert "signature does not match" in _refused(store, posing, _fo(tw))
    no_kid = jwt.encode(claims, stranger, algorithm="RS256")
    assert "unknown or retired key" in _refused(store, no_kid, _fo(tw))
    with store.session() as session:
        public_pem = session.get_one(SigningKey, kid).certificate
    # The key confusion attack: HS256 "signed" with the public key (PyJWT refuses to make one).
    signed = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}"
    mac = hmac.new(public_pem.encode(), signed.encode(), hashlib.sha256).digest()
    confused = f"{signed}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert "cannot be read" in _refused(store, confused, _fo(tw))
    unsigned = f"{_b64({'alg': 'none', 'kid': kid})}.{_b64(claims)}."
    assert "cannot be read" in _refused(store, unsigned, _fo(tw))


def test_rotated_keys_still_verify_until_they_are_retired(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    old = _app_token(store, settings, tw, _fo(tw))
    old_kid = jwt.get_unverified_header(old)["kid"]
    with store.session() as session:
        operator = directory.get_user(session, tw.contoso.admin)
        new_kid = signing.rotate_keys(session, settings, operator).kid
        with pytest.raises(DualWriteError) as active:
            signing.retire_key(session, operator, new_kid)
        assert active.value.code == "DW3010"
    new = _app_token(store, settings, tw, _fo(tw))
    assert jwt.get_unverified_header(new)["kid"] == new_kid != old_kid
    assert _verify(store, old, _fo(tw)) == _verify(store, new, _fo(tw))
    with store.session() as session:
        signing.retire_key(session, directory.get_user(session, tw.contoso.admin), old_kid)
        published = [k.kid for k in signing.published_keys(session)]
    assert published == [new_kid]
    assert "unknown or retired key" in _refused(store, old, _fo(tw))
    assert _verify(store, new, _fo(tw)).app_id == tw.contoso.client_id


def test_signing_keys_are_operators_business(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    with store.session() as session:
        fabrikam_admin = directory.get_user(session, tw.fabrikam.admin)  # a tenant admin only
        for attempt in (
            lambda: signing.rotate_keys(session, settings, fabrikam_admin),
            lambda: signing.list_keys(session, fabrikam_admin),
            lambda: signing.retire_key(session, fabrikam_admin, "x"),
        ):
            with pytest.raises(DualWriteError) as caught:
                attempt()
            assert caught.value.code == "DW3004"


def test_a_new_secret_key_signs_with_a_new_key_and_old_tokens_still_verify(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    old = _app_token(store, settings, tw, _fo(tw))
    changed = settings.model_copy(update={"secret_key": "another secret key of this server"})
    new = _app_token(store, changed, tw, _fo(tw))
    assert jwt.get_unverified_header(new)["kid"] != jwt.get_unverified_header(old)["kid"]
    assert _verify(store, old, _fo(tw)) == _verify(store, new, _fo(tw))
    with store.session() as session:
        stored = session.scalars(select(SigningKey.private_key)).all()
    assert all("ENCRYPTED PRIVATE KEY" in pem for pem in stored)


def test_a_disabled_or_deleted_application_is_refused(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    token = _app_token(store, settings, tw, _fo(tw))
    with store.session() as session:
        admin = directory.get_user(session, tw.contoso.admin)
        apps.update_application(session, admin, _app(session, tw.contoso.client_id), enabled=False)
    assert "application is disabled" in _refused(store, token, _fo(tw))
    with store.session() as session:
        admin = directory.get_user(session, tw.contoso.admin)
        apps.delete_application(session, admin, _app(session, tw.contoso.client_id))
    assert "no longer registered" in _refused(store, token, _fo(tw))


def test_a_disabled_or_deleted_user_is_refused(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    audience = f"{BASE}/dataverse/{tw.contoso.dataverse_id}"
    token = _user_token(store, settings, tw, audience)
    with store.session() as session:
        directory.get_user(session, tw.user).is_active = False
    assert "user is disabled" in _refused(store, token, audience)
    with store.session() as session:
        session.delete(directory.get_user(session, tw.user))
    assert "user no longer exists" in _refused(store, token, audience)


def test_a_user_token_naming_a_user_of_another_tenant_is_refused(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    audience = f"{BASE}/dataverse/{tw.contoso.dataverse_id}"
    claims = _claims(_user_token(store, settings, tw, audience))
    with store.session() as session:
        claims["oid"] = session.scalars(
            select(User.object_id).where(User.upn == tw.fabrikam.admin)
        ).one()
    assert "user no longer exists" in _refused(store, _resign(store, settings, claims), audience)


def test_the_challenge_names_the_environments_tenant(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    dataverse = f"{BASE}/dataverse/{tw.contoso.dataverse_id}"
    with store.session() as session:
        assert www_authenticate(session, BASE, dataverse) == (
            f"Bearer authorization_uri={BASE}/{tw.contoso.directory_id}/oauth2/authorize, "
            f"resource_id={dataverse}/"
        )
        assert www_authenticate(session, BASE + "/", _fo(tw) + "/") == (
            f"Bearer authorization_uri={BASE}/{tw.contoso.directory_id}/oauth2/authorize, "
            f"resource_id={_fo(tw)}/"
        )
        nowhere = f"{BASE}/environments/nowhere"
        assert www_authenticate(session, BASE, nowhere) == (
            f"Bearer authorization_uri={BASE}/common/oauth2/authorize, resource_id={nowhere}/"
        )


def test_resources_are_environments_of_the_tenant(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    with store.session() as session:
        contoso, fabrikam = _tenant(session, CONTOSO), _tenant(session, FABRIKAM)
        fo = _resource(session, _fo(tw))
        assert (fo.kind, fo.name, fo.tenant_id, fo.base) == (
            ResourceKind.FO,
            tw.contoso.fo_env,
            contoso.id,
            BASE,
        )
        env = environments.get_environment(
            session, directory.get_user(session, tw.contoso.admin), tw.contoso.fo_env
        )
        assert resource_url(BASE + "/ignored/path", env) == _fo(tw)
        assert api_root("http://127.0.0.1:80", env) == (
            f"http://127.0.0.1/environments/{tw.contoso.fo_env}/data/"
        )
        dataverse = f"{BASE}/dataverse/{tw.contoso.dataverse_id.upper()}"
        assert find_resource(session, contoso, dataverse) is not None
        assert find_resource(session, fabrikam, dataverse) is None  # another tenant's
        assert find_resource(session, contoso, _fo(tw), base="http://127.0.0.1:8443") is None
        for bad in (
            f"{_fo(tw)}/data",
            f"{_fo(tw)}?x=1",
            f"ftp://127.0.0.1/environments/{tw.contoso.fo_env}",
            f"https://user@127.0.0.1:8443/environments/{tw.contoso.fo_env}",
            "https://127.0.0.1:notaport/environments/x",
            "",
        ):
            assert find_resource(session, contoso, bad) is None, bad
        assert normalise_resource("HTTPS://Example.COM:443/environments/x//") == (
            "https://example.com/environments/x"
        )


def test_an_fo_name_in_two_tenants_is_found_only_with_its_tenant(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin = directory.get_user(session, tw.fabrikam.admin)
        project = session.scalars(select(Project).where(Project.tenant_id == admin.tenant_id)).one()
        environments.deploy_environment(
            session, settings, admin, project, EnvironmentSpec(name=tw.contoso.fo_env)
        )
        contoso, fabrikam = _tenant(session, CONTOSO), _tenant(session, FABRIKAM)
        assert find_resource(session, None, _fo(tw)) is None
        found = [find_resource(session, t, _fo(tw)) for t in (contoso, fabrikam)]
        assert [f.tenant_id for f in found if f] == [contoso.id, fabrikam.id]
        assert "/common/oauth2/authorize" in www_authenticate(session, BASE, _fo(tw))
    # A token names its tenant, so each tenant's token reaches its own environment.
    assert _verify(store, _app_token(store, settings, tw, _fo(tw)), _fo(tw)).tenant_id == contoso.id


def test_a_dataverse_without_dataverse_is_no_resource(
    store: ControlStore, settings: Settings, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin = bootstrap(session, "third.onmicrosoft.com")
        empty = platform.create_environment(
            session, settings, admin, name="No Dataverse", region="West US", dataverse=False
        )
        assert find_resource(session, None, f"{BASE}/dataverse/{empty.id}") is None
