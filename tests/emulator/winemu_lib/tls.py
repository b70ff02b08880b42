"""The fleet's own test certificate authority and one server certificate per HTTPS host.

Like a WinRM HTTPS listener whose certificate an enterprise CA issued: the certificate names the host
(its FQDN, short name and ``127.0.0.1``, the address the inventory connects to) and chains to a CA the
client must trust. ``winemu serve`` writes the CA certificate next to the inventory, which points
``ansible_winrm_ca_trust_path`` and ``ansible_psrp_ca_cert`` at it, so clients validate certificates as
they should against real hosts. The CA's private key never leaves the process.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import ssl
import tempfile
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
CA_COMMON_NAME = "winemu test CA"


@dataclasses.dataclass(frozen=True)
class ServerCertificate:
    cert_pem: bytes
    key_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        """A TLS server context; the PEM data goes through a private temporary directory (ssl needs files)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="winemu-tls-") as directory:
            cert_path = os.path.join(directory, "cert.pem")
            key_path = os.path.join(directory, "key.pem")
            for path, data in ((cert_path, self.cert_pem), (key_path, self.key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            context.load_cert_chain(cert_path, key_path)
        return context


@dataclasses.dataclass(frozen=True)
class CertificateAuthority:
    """A root CA that issues the fleet's server certificates."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, names: t.Iterable[str]) -> ServerCertificate:
        """A server certificate for ``names`` (DNS names) plus ``127.0.0.1`` and ``::1``."""
        # Assumption: an ECDSA P-256 key instead of the RSA key Windows' certificate templates usually give;
        # TLS clients accept either, and generation takes milliseconds even for a large fleet.
        key = ec.generate_private_key(ec.SECP256R1())
        dns_names = sorted({name.lower() for name in names if name})
        alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
        alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "::1")]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[-1] if dns_names else "127.0.0.1")])
        certificate = (
            _builder(subject, self.certificate.subject, key.public_key())
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(server=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return ServerCertificate(cert_pem=certificate.public_bytes(serialization.Encoding.PEM), key_pem=_pem(key))


def new_authority(common_name: str = CA_COMMON_NAME) -> CertificateAuthority:
    """A fresh self-signed root CA (new key every time: nothing outside this run trusts it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(server=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(certificate=certificate, key=key)


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, server: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=server,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not server,
        crl_sign=not server,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
