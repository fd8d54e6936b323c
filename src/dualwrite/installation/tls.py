"""The self-signed certificate `dualwrite serve --tls` serves HTTPS with: made on first use in
the data directory and reused after, for 127.0.0.1, ::1, localhost, this host's name and the
address served on. Clients are told to trust that one file (README, "HTTPS")."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dualwrite.control.models import utcnow

VALID_DAYS = 825  # the longest that browsers and Apple's clients accept for a server certificate
RENEW_DAYS = 30
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104 - names, not a bind


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path  # PEM; what clients trust (SSL_CERT_FILE, verify=…)
    key: Path  # PEM, readable by its owner only


def _names(hosts: Iterable[str]) -> list[str]:
    names = ["localhost", "127.0.0.1", "::1", socket.gethostname().lower()]
    names += [h.strip("[]").lower() for h in hosts if h.strip("[]") not in _ANY_ADDRESS]
    return list(dict.fromkeys(n for n in names if n))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _covers(path: Path, names: list[str]) -> bool:
    """An existing certificate still serves: it names every host and is not about to expire."""
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v).lower() for v in sans.get_values_for_type(x509.DNSName)}
    have |= {str(v) for v in sans.get_values_for_type(x509.IPAddress)}
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names}
    fresh = certificate.not_valid_after_utc - utcnow() > timedelta(days=RENEW_DAYS)
    return fresh and wanted <= have


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def server_certificate(folder: Path, hosts: Iterable[str] = ()) -> TlsFiles:
    """The certificate and key in `folder` (made or renewed when they do not cover `hosts`)."""
    files = TlsFiles(folder / "server.crt", folder / "server.key")
    names = _names(hosts)
    if files.key.exists() and _covers(files.certificate, names):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dualwrite (self-signed)")])
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        files.key.chmod(0o600)  # a file that was already there keeps its mode otherwise
        handle.write(pem_key)
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files
