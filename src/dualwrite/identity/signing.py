"""Token signing keys: RS256 key pairs in the control store, published as a JWKS.

Each key comes with a self-signed certificate, so the JWKS carries `x5c` and `x5t` as Entra's
does (some clients read the certificate, not `n` and `e`), and the `kid` is its thumbprint as
in Entra. Private keys are stored as encrypted PKCS #8 with a password derived from
`DUALWRITE_SECRET_KEY` (HKDF): a copy of the control store alone cannot sign tokens. Rotation
adds a new active key; older ones stay published until retired, so tokens they signed still
verify until they expire.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dualwrite.control.models import SigningKey, User, utcnow
from dualwrite.errors import ERR
from dualwrite.identity.authz import require_operator
from dualwrite.settings import Settings

log = logging.getLogger("dualwrite.tokens")
KEY_BITS = 2048
CERTIFICATE_YEARS = 5
_SUBJECT = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dualwrite token signing")])


@dataclass(frozen=True)
class Signer:
    kid: str
    private_key: rsa.RSAPrivateKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _password(settings: Settings) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"dualwrite token signing keys"
    ).derive(settings.secret_key.encode())
    return derived.hex().encode()  # text: PEM passwords are read as such everywhere


def create_key(session: Session, settings: Settings) -> SigningKey:
    """A new active key; the others stop signing but stay published."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_SUBJECT)
        .issuer_name(_SUBJECT)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * CERTIFICATE_YEARS))
        .sign(key, hashes.SHA256())
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_password(settings)),
    )
    session.execute(update(SigningKey).where(SigningKey.active.is_(True)).values(active=False))
    row = SigningKey(
        kid=_b64url(certificate.fingerprint(hashes.SHA1())),  # noqa: S303 - Entra's x5t/kid
        certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        private_key=encrypted.decode(),
        active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


@lru_cache(maxsize=16)
def _private_key(pem: str, password: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password)
    assert isinstance(key, rsa.RSAPrivateKey)  # noqa: S101 - only RSA keys are made
    return key


@lru_cache(maxsize=64)
def _certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def signer(session: Session, settings: Settings) -> Signer:
    """The newest active key this installation can decrypt; a first key is made on first use,
    and a new one when the secret key changed (the old ones still verify what they signed)."""
    query = (
        select(SigningKey)
        .where(SigningKey.active.is_(True), SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
    )
    password = _password(settings)
    unreadable = []
    for row in session.scalars(query):
        try:
            return Signer(row.kid, _private_key(row.private_key, password))
        except ValueError:  # encrypted with another DUALWRITE_SECRET_KEY
            unreadable.append(row.kid)
    if unreadable:
        log.warning(
            "signing keys %s cannot be decrypted with this DUALWRITE_SECRET_KEY; a new key "
            "signs from now on",
            ", ".join(unreadable),
        )
    row = create_key(session, settings)
    return Signer(row.kid, _private_key(row.private_key, password))


def published_keys(session: Session) -> list[SigningKey]:
    query = select(SigningKey).where(SigningKey.retired_at.is_(None))
    return list(session.scalars(query.order_by(SigningKey.created_at.desc(), SigningKey.kid)))


def public_key(session: Session, kid: str) -> rsa.RSAPublicKey | None:
    """The published key `kid` names, or None (unknown or retired)."""
    if len(kid) > 64 or "\x00" in kid:  # no kid is like that; PostgreSQL refuses NUL
        return None
    row = session.get(SigningKey, kid)
    if row is None or row.retired_at is not None:
        return None
    return _rsa_public_key(row)


def _rsa_public_key(row: SigningKey) -> rsa.RSAPublicKey:
    key = _certificate(row.certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey)  # noqa: S101 - only RSA keys are made
    return key


def jwk(row: SigningKey, issuer: str | None = None) -> dict[str, Any]:
    """A key as Entra publishes it: kty, use, kid, x5t, n, e, x5c (and its issuer)."""
    certificate = _certificate(row.certificate)
    numbers = RSAAlgorithm.to_jwk(_rsa_public_key(row), as_dict=True)
    entry: dict[str, Any] = {
        "kty": "RSA",
        "use": "sig",
        "kid": row.kid,
        "x5t": row.kid,
        "n": numbers["n"],
        "e": numbers["e"],
        "x5c": [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()],
    }
    if issuer is not None:
        entry["issuer"] = issuer
    return entry


# --- administration (installation operators: the keys sign for every tenant) -----------------


def list_keys(session: Session, actor: User) -> list[SigningKey]:
    require_operator(actor, "Listing token signing keys")
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc())))


def rotate_keys(session: Session, settings: Settings, actor: User) -> SigningKey:
    require_operator(actor, "Rotating token signing keys")
    return create_key(session, settings)


def retire_key(session: Session, actor: User, kid: str) -> SigningKey:
    """Take a key out of the JWKS: tokens it signed no longer verify."""
    require_operator(actor, "Retiring a token signing key")
    row = session.get(SigningKey, kid.strip())
    if row is None:
        raise ERR.NOT_FOUND.error(kind="signing key", name=kid, noun="app keys")
    if row.active:
        raise ERR.ACTIVE_SIGNING_KEY.error(kid=row.kid)
    if row.retired_at is None:
        row.retired_at = utcnow()
    session.flush()
    return row
