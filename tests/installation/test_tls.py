"""The self-signed certificate of `dualwrite serve --tls`: made once, kept, renewed when it
no longer covers the host served on."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from dualwrite.installation.tls import server_certificate


def _names(path: Path) -> set[str]:
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n) for n in sans.get_values_for_type(x509.DNSName)} | {
        str(n) for n in sans.get_values_for_type(x509.IPAddress)
    }


def test_made_once_for_loopback_and_the_host_then_kept(tmp_path: Path) -> None:
    every = "0.0.0.0"  # noqa: S104 - a name to put in a certificate, not a bind
    files = server_certificate(tmp_path / "tls", [every])
    assert {"localhost", "127.0.0.1", "::1"} <= _names(files.certificate)
    assert every not in _names(files.certificate)  # the wildcard address is no name
    assert files.key.stat().st_mode & 0o777 == 0o600
    made = files.certificate.read_bytes()
    assert (
        server_certificate(tmp_path / "tls", ["127.0.0.1", "[::1]"]).certificate.read_bytes()
        == made
    )


def test_renewed_for_another_address_or_when_unreadable(tmp_path: Path) -> None:
    files = server_certificate(tmp_path / "tls")
    made = files.certificate.read_bytes()
    wider = server_certificate(tmp_path / "tls", ["192.0.2.10"])
    assert wider.certificate.read_bytes() != made
    assert str(ipaddress.ip_address("192.0.2.10")) in _names(wider.certificate)
    files.certificate.write_text("not a certificate")
    assert "localhost" in _names(server_certificate(tmp_path / "tls").certificate)
