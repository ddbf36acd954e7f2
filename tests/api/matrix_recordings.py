"""Call recordings are the content of calls (hosted-pbx.txt, "Hosted Call Recording"): read like
call records only by the operator, the CPNI administrator and the users it granted
(voip-service-guide.txt §V.12); whom to record is set by the office administrator, back-up or
operator, as the MACs are."""

from __future__ import annotations

from tests.api.matrix_roles import CPNI, GRANTED, OP, STAFF, Body

CPNI_READERS = {OP, CPNI, GRANTED}

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/recordings", None, CPNI_READERS),
    ("GET", "/tenants/{t}/recordings/{recording}", None, CPNI_READERS),
    ("GET", "/tenants/{t}/recordings/{recording}.wav", None, CPNI_READERS),
    ("GET", "/tenants/{t}/recording-policy", None, STAFF),
    ("PUT", "/tenants/{t}/recording-policy", lambda w: {"mode": "inbound", "retention_months": 24}, STAFF),
    ("GET", "/tenants/{t}/users/{user}/recording-policy", None, STAFF),
    ("PUT", "/tenants/{t}/users/{user}/recording-policy", lambda w: {"mode": "on_demand"}, STAFF),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
