"""A test STIR/SHAKEN PKI made with ``cryptography``: a root CA, a service provider's signing
certificate under it (EC P-256, as ES256 needs), and a stranger's certificate under another root."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Pki:
    root: x509.Certificate
    sp_key: ec.EllipticCurvePrivateKey
    sp_cert: x509.Certificate
    rogue_key: ec.EllipticCurvePrivateKey
    rogue_cert: x509.Certificate

    def write(self, where: Path) -> dict[str, Path]:
        """The files a deployment would have: the CA bundle, the SP's key and certificate."""
        files = {"ca": where / "ca.pem", "key": where / "sp.key", "cert": where / "sp.pem"}
        files["ca"].write_bytes(pem(self.root))
        files["cert"].write_bytes(pem(self.sp_cert))
        files["key"].write_bytes(
            self.sp_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return files


def make_pki() -> Pki:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("Centrex Test STI-CA", root_key, "Centrex Test STI-CA", root_key, True)
    sp_key = ec.generate_private_key(ec.SECP256R1())
    sp_cert = _cert("Centrex Test SP", sp_key, "Centrex Test STI-CA", root_key, False)
    rogue_root_key = ec.generate_private_key(ec.SECP256R1())
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue_cert = _cert("Rogue SP", rogue_key, "Rogue CA", rogue_root_key, False)
    return Pki(root, sp_key, sp_cert, rogue_key, rogue_cert)
