"""The shaken_* settings: key and x5u both or neither; configure() loads the signer and the trust
store from the files a deployment has, and refuses a key that is not its certificate's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from centrex.config import Settings
from centrex.routing.caller_identity import CallerIdentity, configure
from centrex.routing.shaken import Verstat, fetch_certificate, identity_header, sign_passport, verify_identity
from tests.shaken.pki import make_pki, pem


def test_key_and_x5u_both_or_neither(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="shaken_key_file and shaken_cert_url"):
        Settings(data_dir=tmp_path, shaken_key_file=str(tmp_path / "sp.key"))
    s = Settings(data_dir=tmp_path, shaken_key_file="k.pem", shaken_cert_url="https://cert.example/sp.pem")
    assert s.shaken_cert_url == "https://cert.example/sp.pem"


def test_configure_signs_what_the_configured_ca_verifies(tmp_path: Path) -> None:
    pki = make_pki()
    files = pki.write(tmp_path)
    x5u = f"file://{files['cert']}"
    identity = CallerIdentity()
    configure(
        identity,
        key_file=str(files["key"]),
        cert_url=x5u,
        cert_file=str(files["cert"]),
        ca_file=str(files["ca"]),
    )
    assert identity.signer is not None and identity.roots is not None
    jws = sign_passport(
        identity.signer, attest="A", orig_tn="+12175281001", dest_tn="+12125550199", iat=int(time.time())
    )
    result = verify_identity(
        identity_header(jws, x5u),
        orig_tn="+12175281001",
        dest_tn="+12125550199",
        now=time.time(),
        roots=identity.roots,
        fetch=fetch_certificate,
    )
    assert result.verstat is Verstat.PASSED
    (tmp_path / "other.pem").write_bytes(pem(pki.rogue_cert))
    with pytest.raises(ValueError, match="not the key"):
        configure(
            CallerIdentity(), key_file=str(files["key"]), cert_url=x5u, cert_file=str(tmp_path / "other.pem")
        )
