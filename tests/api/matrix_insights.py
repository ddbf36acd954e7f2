"""Route matrix rows of Insights (issue 20 §3): dashboards, reports, the export, saved dashboards
and alert rules. The figures name callers and callees (CPNI): the tenant's administrators, its
developers and the operator (Resource.INSIGHTS), no end user nor the CPNI administrator."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, STAFF, Body, next_n

BASE = "/tenants/{t}/insights"
WHO = STAFF | {DEV}

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", BASE + "/metrics", None, WHO),
    ("GET", BASE + "/dashboard", None, WHO),
    ("GET", BASE + "/report.csv", None, WHO),
    ("GET", BASE + "/export", None, WHO),
    ("GET", BASE + "/dashboards", None, WHO),
    (
        "POST",
        BASE + "/dashboards",
        lambda w: {"name": f"Board {next_n()}", "metrics": ["calls.started"]},
        WHO,
    ),
    ("DELETE", BASE + "/dashboards/{spare_insights_dashboard}", None, WHO),
    ("GET", BASE + "/alerts", None, WHO),
    (
        "POST",
        BASE + "/alerts",
        lambda w: {
            "name": f"Rule {next_n()}",
            "kind": "threshold",
            "metric": "calls.started",
            "threshold": 10,
        },
        WHO,
    ),
    ("GET", BASE + "/alerts/{insights_rule}", None, WHO),
    ("PATCH", BASE + "/alerts/{insights_rule}", lambda w: {"threshold": 20}, WHO),
    ("DELETE", BASE + "/alerts/{spare_insights_rule}", None, WHO),
    ("GET", BASE + "/alerts/{insights_rule}/firings", None, WHO),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
