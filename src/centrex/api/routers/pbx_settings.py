"""A tenant's PBX settings (issue 4 points 1 and 6): its feature codes, direct media between phones
of one site, and how long a parked call waits before ringing back whoever parked it.

``GET/PATCH /tenants/{id}/pbx-settings``, for the office administrator, back-up and operator
(``Resource.PBX_SETTINGS``), each change audited as ``pbx.settings``.

- ``feature_codes``: GET shows the effective table (every feature, the tenant's code or the
  default) and ``feature_code_overrides`` (only what the tenant changed). PATCH takes changes:
  ``{"park": "#70"}`` sets a code, ``{"park": null}`` resets it to the default; features not named
  keep theirs. The table after the change must pass calls/features.py ``validate`` (syntax, 911,
  unique, prefix, known feature), else 422 listing each problem as ``feature_codes.<feature>``.
- ``direct_media``: phones of one site talk to each other without the relay (calls/engine.py
  ``_direct_media``), only for calls nobody may record.
- ``park_timeout_s``: 30-3600 s.
- ``max_call_s``: 60-86,400 s (default 4 h): the switch ends a call that long (issue 13 §3).

The switch reads tenants through calls/directory.py ``CachedDirectory``: a change made here empties
it in this process (store/changes.py counts the write), so this node's next call uses it; other
nodes see it within the cache's 2 s. No restart either way.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from centrex.api.deps import TenantDep
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.calls import features
from centrex.numbers.storage import Problem, ProblemList
from centrex.store.access import TenantData, apply_changes
from centrex.store.policy import Action, Resource

router = APIRouter(
    prefix="/tenants/{tenant_id}",
    tags=["pbx"],
    route_class=ProblemRoute,
    dependencies=[Depends(remember_session)],
)

PARK_TIMEOUT_MIN_S, PARK_TIMEOUT_MAX_S = 30, 3600
# The longest call (issue 13 §3): at least a minute, at most a day; 4 h unless the tenant says.
MAX_CALL_MIN_S, MAX_CALL_MAX_S = 60, 86_400


class PbxSettingsOut(BaseModel):
    feature_codes: dict[str, str] = Field(description="every feature with the code that dials it")
    feature_code_overrides: dict[str, str] = Field(description="the codes this tenant changed")
    direct_media: bool
    park_timeout_s: int
    max_call_s: int = Field(description="seconds after its answer that the switch hangs a call up")


class PbxSettingsPatch(BaseModel):
    feature_codes: dict[str, str | None] | None = Field(
        None, description="feature -> new code; null resets that feature to its default"
    )
    direct_media: bool | None = None
    park_timeout_s: int | None = Field(
        None,
        ge=PARK_TIMEOUT_MIN_S,
        le=PARK_TIMEOUT_MAX_S,
        description="seconds a parked call waits before ringing back whoever parked it",
    )
    max_call_s: int | None = Field(
        None,
        ge=MAX_CALL_MIN_S,
        le=MAX_CALL_MAX_S,
        description="seconds after its answer that the switch hangs a call up (a stuck or forgotten call)",
    )


def _settings(data: TenantData) -> dict[str, Any]:
    t = data.tenant
    overrides = {k: v for k, v in (t.feature_codes or {}).items() if k in features.BY_NAME}
    return {
        "feature_codes": features.merge(overrides),
        "feature_code_overrides": overrides,
        "direct_media": bool(t.direct_media),
        "park_timeout_s": t.park_timeout_s,
        "max_call_s": t.max_call_s,
    }


@router.get("/pbx-settings", response_model=PbxSettingsOut)
def get_pbx_settings(data: TenantDep) -> Any:
    data.require(Resource.PBX_SETTINGS, Action.READ)
    return _settings(data)


@router.patch("/pbx-settings", response_model=PbxSettingsOut)
def patch_pbx_settings(body: PbxSettingsPatch, data: TenantDep) -> Any:
    data.require(Resource.PBX_SETTINGS, Action.UPDATE)
    changes: dict[str, Any] = {}
    if body.feature_codes is not None:
        unknown = [n for n in body.feature_codes if n not in features.BY_NAME]
        stored = features.apply_patch(data.tenant.feature_codes, {} if unknown else body.feature_codes)
        problems = features.validate({**stored, **{n: body.feature_codes[n] for n in unknown}})
        if problems:
            raise ProblemList(
                f"feature codes refused: {len(problems)} problem(s)",
                [Problem(f"feature_codes.{p.feature}", p.message, p.rule) for p in problems],
            )
        changes["feature_codes"] = stored or None
    if body.direct_media is not None:
        changes["direct_media"] = body.direct_media
    if body.park_timeout_s is not None:
        changes["park_timeout_s"] = body.park_timeout_s
    if body.max_call_s is not None:
        changes["max_call_s"] = body.max_call_s
    # The tenant row itself: TenantData checked the role and the tenant; the audit entry goes into
    # the same transaction.
    diff = apply_changes(data.session, data.tenant, changes)
    if diff:
        data.audit("pbx.settings", "tenants", data.tenant_id, *diff, data.tenant_id)
    return _settings(data)
