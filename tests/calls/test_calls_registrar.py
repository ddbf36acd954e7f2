from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.guard import GuardConfig, SourceGuard
from centrex.calls.location import LocationService
from centrex.calls.registrar import ExpiryPolicy, Registrar
from centrex.sip.digest import parse_challenge
from centrex.sip.message import Response

from .helpers import DOMAIN_A, answer, make_org, register

SRC = ("10.0.0.5", 5062)


def setup(max_failures: int = 5) -> tuple[Registrar, LocationService, SourceGuard]:
    org = make_org()
    guard = SourceGuard(GuardConfig(max_auth_failures=max_failures))
    loc = LocationService()
    auth = PhoneAuthenticator(org.directory, b"k" * 32, guard)
    return Registrar(auth, loc, ExpiryPolicy(default=3600, minimum=60, maximum=3600)), loc, guard


def do_register(
    reg: Registrar, user: str, now: float = 0.0, password: str = "s3cret-pass", **kw: object
) -> Response:
    first = reg.handle(register(user, **kw), SRC, "UDP", now)  # type: ignore[arg-type]
    assert first.status == 401
    req = register(user, cseq=2, **kw)  # type: ignore[arg-type]
    req.headers.add("Authorization", answer(first, req, user, password))
    return reg.handle(req, SRC, "UDP", now)


def shape(resp: Response) -> tuple[int, list[tuple[str, str, str | None, bool]]]:
    challenges = [parse_challenge(v) for v in resp.headers.get_all("WWW-Authenticate")]
    return resp.status, [(c.realm, c.algorithm, c.qop, c.stale) for c in challenges]


def test_every_register_is_challenged_with_sha256_and_md5() -> None:
    reg, _, _ = setup()
    resp = reg.handle(register("1001"), SRC, "UDP", 0.0)
    assert shape(resp) == (401, [(DOMAIN_A, "SHA-256", "auth", False), (DOMAIN_A, "MD5", "auth", False)])
    assert "Server" not in resp.headers and "User-Agent" not in resp.headers


def test_right_password_registers_and_200_lists_contacts() -> None:
    reg, loc, _ = setup()
    resp = do_register(reg, "1001")
    assert resp.status == 200
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.5:5062>;expires=3600"]
    assert len(loc.all()) == 1
    assert loc.all()[0].source == SRC


def test_unknown_user_and_unknown_domain_look_exactly_like_a_wrong_password() -> None:
    reg, _, _ = setup()
    known = reg.handle(register("1001"), SRC, "UDP", 0.0)
    unknown = reg.handle(register("9999"), SRC, "UDP", 0.0)
    assert shape(known) == shape(unknown)
    wrong = do_register(reg, "1001", password="nope")
    nouser = do_register(reg, "9999")
    assert shape(wrong) == shape(nouser) and wrong.status == 401
    other = reg.handle(register("1001", domain="nowhere.example.net"), SRC, "UDP", 0.0)
    assert shape(other)[0] == 401 and shape(other)[1][0][0] == "nowhere.example.net"
    assert do_register(reg, "1001", domain="nowhere.example.net").status == 401


def test_cross_tenant_credentials_do_not_work() -> None:
    reg, _, _ = setup()
    # 2001 exists only in tenant B; registering it in A's domain fails like any unknown user.
    assert do_register(reg, "2001").status == 401
    assert do_register(reg, "2001", domain="b.example.com").status == 200


def test_expiry_min_max_and_contact_param() -> None:
    reg, loc, _ = setup()
    assert do_register(reg, "1001", expires=30).status == 423
    resp = do_register(reg, "1001", expires=999999)
    assert resp.headers.get("Contact", "").endswith("expires=3600")
    resp = do_register(
        reg, "1001", contact="<sip:{user}@10.0.0.5:5062>;expires=120", expires=3600, call_id="c2"
    )
    assert resp.headers.get("Contact", "").endswith("expires=120")
    aor = loc.all()[0].aor
    assert len(loc.bindings(aor, 119.0)) == 1
    assert loc.bindings(aor, 121.0) == []


def test_several_contacts_then_unregister_one_then_star() -> None:
    reg, loc, _ = setup()
    do_register(reg, "1001", contact="<sip:{user}@10.0.0.5:5062>", call_id="a")
    resp = do_register(reg, "1001", contact="<sip:{user}@10.0.0.6:5070;transport=tcp>", call_id="b")
    assert len(resp.headers.get_all("Contact")) == 2
    resp = do_register(reg, "1001", contact="<sip:{user}@10.0.0.5:5062>", expires=0, call_id="a2")
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.6:5070;transport=tcp>;expires=3600"]
    resp = do_register(reg, "1001", contact="*", expires=0, call_id="z")
    assert resp.status == 200 and resp.headers.get_all("Contact") == []
    assert loc.all() == []
    assert do_register(reg, "1001", contact="*", expires=60, call_id="z2").status == 400


def test_query_without_contact_lists_bindings() -> None:
    reg, _, _ = setup()
    do_register(reg, "1001")
    resp = do_register(reg, "1001", contact=None, expires=None, call_id="q")
    assert resp.status == 200 and len(resp.headers.get_all("Contact")) == 1


def test_registering_another_devices_aor_is_forbidden() -> None:
    reg, _, _ = setup()
    first = reg.handle(register("1002"), SRC, "UDP", 0.0)
    req = register("1002", cseq=2)
    # Credentials of 1001 on a REGISTER for 1002's address.
    req.headers.add("Authorization", answer(first, req, "1001"))
    assert reg.handle(req, SRC, "UDP", 0.0).status == 403


def test_five_failures_ban_the_source() -> None:
    reg, _, guard = setup()
    for _ in range(4):
        assert do_register(reg, "1001", password="bad").status == 401
        assert not guard.bans.is_banned(SRC[0], 0.0)
    assert do_register(reg, "9999").status == 401  # unknown users count the same
    assert guard.bans.is_banned(SRC[0], 0.0)
    assert not guard.admit(SRC[0], b"REGISTER sip:x SIP/2.0\r\n\r\n", 1.0)


def test_expired_bindings_disappear() -> None:
    reg, loc, _ = setup()
    do_register(reg, "1001", expires=60)
    assert loc.purge(59.0) == 1
    assert loc.purge(61.0) == 0
