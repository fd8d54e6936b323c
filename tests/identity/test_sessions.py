"""Sign-in: one generic failure message, throttling per address that survives restarts and
never locks the owner out (OWASP), tokens, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dualwrite.control.models import AuthSession, LoginFailure, as_utc, utcnow
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


HOME = "203.0.113.7"  # the owner's address
ATTACKER = "198.51.100.66"


def _fail(
    store: ControlStore, settings: Settings, upn: str = UPN, source: str = ATTACKER
) -> DualWriteError:
    with pytest.raises(DualWriteError) as err:
        sessions.sign_in(
            store, settings, upn, "wrong password!!", SessionKind.BEARER, source=source
        )
    return err.value


def _sign_in(store: ControlStore, settings: Settings, source: str, upn: str = UPN) -> str:
    return sessions.sign_in(store, settings, upn, PASSWORD, SessionKind.BEARER, source=source).upn


def _age_failures(store: ControlStore, seconds: float) -> None:
    """Move every recorded failure `seconds` into the past (as if time had passed)."""
    with store.session() as session:
        for failure in session.scalars(select(LoginFailure)):
            failure.at = as_utc(failure.at) - timedelta(seconds=seconds)


def test_sign_in_gives_a_token_that_authenticates(world: ControlStore, settings: Settings) -> None:
    signed = sessions.sign_in(
        world, settings, " Admin@Contoso.onmicrosoft.com", PASSWORD, "bearer", source=HOME
    )
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


def test_failures_hold_back_the_address_they_came_from_not_the_owner(
    world: ControlStore, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        assert _fail(world, settings).code == "DW3001"
    # The attacker's address waits, even with the right password …
    with pytest.raises(DualWriteError) as err:
        _sign_in(world, settings, ATTACKER)
    assert (err.value.code, err.value.status) == ("DW3002", 429)
    assert f"Wait {settings.login_backoff_seconds} seconds" in err.value.hint
    # … and a restarted process reads the same store: still waiting.
    again = ControlStore(settings.control_url)
    with pytest.raises(DualWriteError):
        _sign_in(again, settings, ATTACKER)
    again.dispose()
    # The owner, from an address that has not failed, signs in as usual.
    assert _sign_in(world, settings, HOME) == UPN


def test_the_wait_doubles_with_every_failure_past_the_limit(
    world: ControlStore, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        _fail(world, settings)
    first = settings.login_backoff_seconds
    for expected in (2 * first, 4 * first, 8 * first):
        _age_failures(world, expected / 2 + 1)  # the previous wait is over
        assert _fail(world, settings).code == "DW3001"  # tried again, failed again
        with pytest.raises(DualWriteError) as err:
            _sign_in(world, settings, ATTACKER)
        assert f"Wait {expected} seconds" in err.value.hint
    # Never longer than the window; once it has passed, the right password works and the
    # address starts afresh.
    _age_failures(world, settings.login_window_seconds + 1)
    assert _sign_in(world, settings, ATTACKER) == UPN
    assert _fail(world, settings).code == "DW3001"


def test_an_address_failing_on_many_accounts_waits_for_all_of_them(
    world: ControlStore, settings: Settings
) -> None:
    tight = settings.model_copy(update={"login_source_max_failures": 4})
    for n in range(4):  # one failure each on four accounts: under the per-account limit
        assert _fail(world, tight, f"user{n}@contoso.onmicrosoft.com").code == "DW3001"
    with pytest.raises(DualWriteError) as err:
        _sign_in(world, tight, ATTACKER)
    assert err.value.code == "DW3002"
    assert _sign_in(world, tight, HOME) == UPN


def test_an_account_attacked_from_many_addresses_stays_open_to_clean_addresses(
    world: ControlStore, settings: Settings
) -> None:
    tight = settings.model_copy(update={"login_account_max_failures": 6})
    for n in range(6):  # six addresses, one failure each
        assert _fail(world, tight, source=f"198.51.100.{n}").code == "DW3001"
    # Under attack: every address that failed on the account waits, at its first failure …
    with pytest.raises(DualWriteError) as err:
        _sign_in(world, tight, "198.51.100.0")
    assert err.value.code == "DW3002"
    # … while an address that never failed signs in with the right password.
    assert _sign_in(world, tight, HOME) == UPN


def test_failures_older_than_the_window_are_forgotten(
    world: ControlStore, settings: Settings
) -> None:
    _fail(world, settings)
    _age_failures(world, settings.login_window_seconds + 1)
    _fail(world, settings, source=HOME)
    with world.session() as session:
        assert [f.source for f in session.scalars(select(LoginFailure))] == [HOME]


def test_expired_sessions_do_not_authenticate(world: ControlStore, settings: Settings) -> None:
    signed = sessions.sign_in(world, settings, UPN, PASSWORD, SessionKind.COOKIE, source=HOME)
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
