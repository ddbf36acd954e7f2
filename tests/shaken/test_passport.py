"""PASSporTs signed and verified with a test CA (routing/shaken.py; RFC 8224, 8225, 8588)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from centrex.routing.shaken import (
    IAT_FRESH_S,
    Signer,
    Verstat,
    identity_header,
    parse_identity,
    parse_passport,
    sign_passport,
    verify_identity,
)
from tests.shaken.pki import Pki, make_pki, pem

X5U = "https://cert.centrex.test/sp.pem"
CALLER, CALLED = "+12015550100", "+13125550199"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def _fetch(pki: Pki, url: str = X5U, cert: bytes | None = None):  # type: ignore[no-untyped-def]
    def fetch(asked: str) -> bytes:
        assert asked == url
        return cert if cert is not None else pem(pki.sp_cert)

    return fetch


def _header(pki: Pki, *, iat: int | None = None, attest: str = "A", orig: str = CALLER) -> str:
    jws = sign_passport(
        Signer(pki.sp_key, X5U), attest=attest, orig_tn=orig, dest_tn=CALLED, iat=iat or int(time.time())
    )
    return identity_header(jws, X5U)


def _verify(pki: Pki, header: str | None, **kw):  # type: ignore[no-untyped-def]
    return verify_identity(
        header,
        orig_tn=kw.get("orig", CALLER),
        dest_tn=kw.get("dest", CALLED),
        now=kw.get("now", time.time()),
        roots=[pki.root],
        fetch=kw.get("fetch", _fetch(pki)),
    )


def test_the_passport_carries_the_rfc_8588_header_and_claims(pki: Pki) -> None:
    header = _header(pki, iat=1_700_000_000, attest="B")
    jws, params = parse_identity(header)
    assert params == {"info": X5U, "alg": "ES256", "ppt": "shaken"}
    assert header.endswith(f";info=<{X5U}>;alg=ES256;ppt=shaken")
    p = parse_passport(jws)
    assert dict(p.header) == {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}
    assert p.claims["attest"] == "B"
    assert p.claims["orig"] == {"tn": "12015550100"}
    assert p.claims["dest"] == {"tn": ["13125550199"]}
    assert p.claims["iat"] == 1_700_000_000
    assert isinstance(p.claims["origid"], str) and p.claims["origid"]
    assert len(p.signature) == 64  # JWS ES256: raw r || s


def test_a_signed_passport_verifies_against_the_test_ca(pki: Pki) -> None:
    result = _verify(pki, _header(pki))
    assert result.verstat is Verstat.PASSED and result.attest == "A"
    quoted = _header(pki).replace("ppt=shaken", 'ppt="shaken"')  # RFC 8588 §6's example form
    assert _verify(pki, quoted).verstat is Verstat.PASSED
    assert result.verstat.value == "TN-Validation-Passed"


def test_a_tampered_passport_fails(pki: Pki) -> None:
    jws, _ = parse_identity(_header(pki))
    head, claims, sig = jws.split(".")
    body = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    body["orig"]["tn"] = "12015550999"  # another caller, same signature
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    result = _verify(pki, identity_header(f"{head}.{forged}.{sig}", X5U), orig="+12015550999")
    assert result.verstat is Verstat.FAILED and result.reason == "bad signature"


def test_a_stale_iat_fails(pki: Pki) -> None:
    old = int(time.time()) - IAT_FRESH_S - 5
    result = _verify(pki, _header(pki, iat=old))
    assert result.verstat is Verstat.FAILED and result.reason == "stale iat"
    assert _verify(pki, _header(pki, iat=int(time.time()) - IAT_FRESH_S + 5)).verstat is Verstat.PASSED


def test_a_caller_other_than_the_signed_one_fails(pki: Pki) -> None:
    result = _verify(pki, _header(pki), orig="+12015550111")
    assert result.verstat is Verstat.FAILED and "orig" in result.reason
    assert _verify(pki, _header(pki), dest="+13125550000").verstat is Verstat.FAILED


def test_a_certificate_from_another_ca_fails(pki: Pki) -> None:
    jws = sign_passport(
        Signer(pki.rogue_key, X5U), attest="A", orig_tn=CALLER, dest_tn=CALLED, iat=int(time.time())
    )
    result = _verify(pki, identity_header(jws, X5U), fetch=_fetch(pki, cert=pem(pki.rogue_cert)))
    assert result.verstat is Verstat.FAILED and "chain" in result.reason


def test_a_key_other_than_the_certificates_fails(pki: Pki) -> None:
    jws = sign_passport(
        Signer(pki.rogue_key, X5U), attest="A", orig_tn=CALLER, dest_tn=CALLED, iat=int(time.time())
    )
    assert _verify(pki, identity_header(jws, X5U)).reason == "bad signature"


def test_no_identity_is_no_validation_and_garbage_fails(pki: Pki) -> None:
    assert _verify(pki, None).verstat is Verstat.NONE
    assert _verify(pki, "not-a-jws;info=<x>").verstat is Verstat.FAILED


def test_the_certificate_is_fetched_from_a_file_url(pki: Pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from centrex.routing.shaken import fetch_certificate

    files = pki.write(tmp_path)
    url = f"file://{files['cert']}"
    jws = sign_passport(
        Signer(pki.sp_key, url), attest="A", orig_tn=CALLER, dest_tn=CALLED, iat=int(time.time())
    )
    result = verify_identity(
        identity_header(jws, url),
        orig_tn=CALLER,
        dest_tn=CALLED,
        now=time.time(),
        roots=[pki.root],
        fetch=fetch_certificate,
    )
    assert result.verstat is Verstat.PASSED
    with pytest.raises(Exception, match="scheme"):
        fetch_certificate("ftp://x/y.pem")


def test_signer_from_files_refuses_a_key_that_is_not_the_certificates(pki: Pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from centrex.routing.caller_identity import signer_from_files

    files = pki.write(tmp_path)
    assert signer_from_files(str(files["key"]), X5U, str(files["cert"])).x5u == X5U
    (tmp_path / "rogue.pem").write_bytes(pem(pki.rogue_cert))
    with pytest.raises(ValueError, match="not the key"):
        signer_from_files(str(files["key"]), X5U, str(tmp_path / "rogue.pem"))
