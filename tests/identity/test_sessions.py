"""Sign-in: one generic failure message, throttling that survives restarts, tokens, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from dualwrite.control.models import AuthSession, LoginFailure, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.settings import Settings
from factories import PASSWORD, bootstrap

UPN = "admin@contoso.onmicrosoft.com"


@pytest.fixture
def world(store: ControlStore) -> ControlStore:
    with store.session() as session:
        bootstrap(session)
    return store


def _fail(store: ControlStore, settings: Settings, upn: str = UPN) -> DualWriteError:
    with pytest.raises(DualWriteError) as err:
        sessions.sign_in(store, settings, upn, "wrong password!!", SessionKind.BEARER)
    return err.value


def test_sign_in_gives_a_token_that_authenticates(world: ControlStore, settings: Settings) -> None:
    signed = sessions.sign_in(world, settings, " Admin@Contoso.onmicrosoft.com", PASSWORD, "bearer")
    with world.session() as session:
        assert sessions.authenticate(session, signed.token).upn == UPN
        with pytest.raises(DualWriteError) as err:
            sessions.authenticate(session, signed.token, SessionKind.COOKIE)
        assert err.value.code == "DW3003"
        sessions.sign_out(session, signed.token)
    with world.session() as session, pytest.raises(DualWriteError):
        sessions.authenticate(session, signed.token)


def test_unknown_user_and_wrong_password_get_the_same_message(
    world: ControlStore, settings: Settings
) -> None:
    wrong_password = _fail(world, settings)
    unknown_user = _fail(world, settings, "nobody@contoso.onmicrosoft.com")
    assert wrong_password.to_dict() == unknown_user.to_dict()
    assert wrong_password.status == 401


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    world: ControlStore, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        assert _fail(world, settings).code == "DW3001"
    with pytest.raises(DualWriteError) as err:
        sessions.sign_in(world, settings, UPN, PASSWORD, SessionKind.BEARER)
    assert (err.value.code, err.value.status) == ("DW3002", 429)
    assert "seconds" in err.value.hint

    # A restarted process reads the same store: still locked.
    again = ControlStore(settings.control_url)
    with pytest.raises(DualWriteError):
        sessions.sign_in(again, settings, UPN, PASSWORD, SessionKind.BEARER)
    again.dispose()

    # Once the window has passed, the right password works and clears the failures.
    with world.session() as session:
        past = utcnow() - timedelta(seconds=settings.login_window_seconds + 1)
        session.execute(update(LoginFailure).values(at=past))
    sessions.sign_in(world, settings, UPN, PASSWORD, SessionKind.BEARER)
    assert _fail(world, settings).code == "DW3001"


def test_expired_sessions_do_not_authenticate(world: ControlStore, settings: Settings) -> None:
    signed = sessions.sign_in(world, settings, UPN, PASSWORD, SessionKind.COOKIE)
    with world.session() as session:
        session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    with world.session() as session, pytest.raises(DualWriteError) as err:
        sessions.authenticate(session, signed.token)
    assert err.value.code == "DW3003"
    with world.session() as session:
        assert sessions.purge_expired(session) == 1


def test_csrf_token_is_bound_to_the_session(settings: Settings) -> None:
    token = sessions.csrf_token(settings, "session-a")
    sessions.check_csrf(settings, "session-a", token)
    for presented in (None, "", sessions.csrf_token(settings, "session-b")):
        with pytest.raises(DualWriteError) as err:
            sessions.check_csrf(settings, "session-a", presented)
        assert (err.value.code, err.value.status) == ("DW3005", 403)


def test_settings_refuse_the_development_secret_in_production() -> None:
    with pytest.raises(ValueError, match="DUALWRITE_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="s3cret-for-real").secret_key
