"""A two-tenant directory in memory and SIP message builders for the call-layer unit tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from centrex.calls.directory import DeviceInfo, MemoryDirectory, Restriction, SiteInfo, TenantInfo, UserInfo
from centrex.sip.digest import build_authorization, compute_ha1
from centrex.sip.message import Request, Response, parse_message

PASSWORD = "s3cret-pass"
DOMAIN_A = "a.example.com"
DOMAIN_B = "b.example.com"


@dataclass
class Org:
    directory: MemoryDirectory
    tenant_a: TenantInfo
    tenant_b: TenantInfo
    users: dict[tuple[str, str], UserInfo]  # (domain, extension) -> user


def make_org() -> Org:
    d = MemoryDirectory()
    ta = TenantInfo(uuid.uuid4(), DOMAIN_A)
    tb = TenantInfo(uuid.uuid4(), DOMAIN_B)
    users: dict[tuple[str, str], UserInfo] = {}
    for tenant, exts in ((ta, ("1001", "1002", "1003", "1004")), (tb, ("2001", "1002"))):
        d.tenants[tenant.domain] = tenant
        site = SiteInfo(uuid.uuid4(), "217528", "IL")
        d.sites[site.id] = site
        for ext in exts:
            user = UserInfo(
                uuid.uuid4(), tenant.id, f"User {ext}", ext, site.id, restriction=Restriction("Standard")
            )
            d.users[user.id] = user
            users[(tenant.domain, ext)] = user
            d.devices[(tenant.id, ext)] = DeviceInfo(
                uuid.uuid4(),
                tenant.id,
                ext,
                compute_ha1(ext, tenant.domain, PASSWORD, "MD5"),
                compute_ha1(ext, tenant.domain, PASSWORD, "SHA-256"),
                user.id,
                site.id,
            )
    return Org(d, ta, tb, users)


def msg(text: str) -> Request:
    m = parse_message(("\r\n".join(text.strip().splitlines()) + "\r\n\r\n").encode())
    assert isinstance(m, Request)
    return m


def register(
    user: str,
    domain: str = DOMAIN_A,
    *,
    contact: str | None = "<sip:{user}@10.0.0.5:5062>",
    expires: int | None = 3600,
    call_id: str = "reg-1",
    cseq: int = 1,
    auth: str | None = None,
    branch: str = "z9hG4bKr1",
) -> Request:
    lines = [
        f"REGISTER sip:{domain} SIP/2.0",
        f"Via: SIP/2.0/UDP 10.0.0.5:5062;branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{domain}>;tag=f{user}",
        f"To: <sip:{user}@{domain}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
    ]
    if contact is not None:
        lines.append(f"Contact: {contact.format(user=user)}")
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if auth:
        lines.append(f"Authorization: {auth}")
    lines.append("Content-Length: 0")
    return msg("\n".join(lines))


def answer(challenge_response: Response, request: Request, user: str, password: str = PASSWORD) -> str:
    """Authorization value answering the first challenge of a 401/407 (MD5: what most phones do)."""
    name = "WWW-Authenticate" if challenge_response.status == 401 else "Proxy-Authenticate"
    values = challenge_response.headers.get_all(name)
    md5 = next(v for v in values if "MD5" in v)
    return build_authorization(md5, request.method, str(request.uri), user, password)
