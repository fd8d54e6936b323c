"""Password hashing (argon2id) and the minimum strength we accept."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dualwrite.errors import ERR

MIN_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the user does not exist, so that timing does not reveal which UPNs exist.
_DUMMY_HASH = _hasher.hash("dualwrite-dummy-password")


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ERR.WEAK_PASSWORD.error(
            problem=f"it has {len(password)} characters, not {MIN_LENGTH}"
        )
    if password.strip() != password or not password.strip():
        raise ERR.WEAK_PASSWORD.error(problem="it starts or ends with white space")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
