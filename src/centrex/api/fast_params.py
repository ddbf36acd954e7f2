"""Path, query, header and cookie parameters read by a plan made once per route (issue 14: CPU per
request).

FastAPI's `request_params_to_args` works out, on every request and for every parameter, facts that
never change after start-up: whether the parameter is a model, its aliases, whether its annotation
is a sequence (a recursive walk of `Annotated`/`Union`), whether it is JSON. In the API bench's read
mix that was ~20 % of a request's CPU (docs/performance.md, "API"). Here those facts are worked out
once per list of fields (FastAPI's `Dependant` keeps its lists for the life of the app) and the
per-request part is only: look the value up, default it, validate it — with FastAPI's own helpers,
so the values and the errors (their `loc` included) are the same. A list whose fields need more
(a parameter model, alias choices, form data) is handed to FastAPI's own function unchanged.

`install()` puts the function in place of FastAPI's (fastapi/dependencies/utils.py looks it up as
a module global on every call). FastAPI is pinned (constraints.txt); tests/api/test_fast_params.py
checks this function against FastAPI's own over every route's parameters and many inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from enum import Enum
from typing import Any

import fastapi.dependencies.utils as fastapi_utils
from fastapi import params
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.exceptions import FastAPIError
from starlette.datastructures import FormData, Headers, ImmutableMultiDict, QueryParams

_original = fastapi_utils.request_params_to_args
_IMMUTABLE = (type(None), bool, int, float, str, bytes, Enum, tuple, frozenset)


@dataclass(frozen=True, slots=True)
class _Param:
    field: ModelField
    name: str
    alias: str
    many: bool  # read with getlist (a sequence annotation, not JSON)
    sequence: bool  # an empty list counts as absent
    loc: tuple[str, str]
    required: bool
    default: Any
    copy_default: bool
    validate_default: bool


def _param(field: ModelField) -> _Param | None:
    """The facts FastAPI would work out per request, or None if this field needs its general path."""
    info = field.field_info
    if not isinstance(info, params.Param) or fastapi_utils._get_param_model(field) is not None:
        return None
    aliases = fastapi_utils._get_param_aliases(field)
    if len(aliases) != 1:  # alias choices: FastAPI picks by what the request has
        return None
    alias = aliases[0][1]
    sequence = field_annotation_is_sequence(info.annotation)
    default = field.default
    return _Param(
        field=field,
        name=field.name,
        alias=alias,
        many=sequence and not fastapi_utils._is_json_field(field),
        sequence=sequence,
        loc=(info.in_.value, alias),
        required=info.is_required(),
        default=default,
        copy_default=not isinstance(default, _IMMUTABLE),
        validate_default=bool(info.validate_default),
    )


# Plans by the identity of FastAPI's field list; the list itself is kept so its id stays its own.
# An application has a few hundred lists; past PLANS_KEPT (many applications made in one process,
# as the tests do) the plans start afresh, so old applications' fields are not kept alive.
_plans: dict[int, tuple[Sequence[ModelField], tuple[_Param, ...] | None]] = {}
PLANS_KEPT = 4096


def _plan(fields: Sequence[ModelField]) -> tuple[_Param, ...] | None:
    known = _plans.get(id(fields))
    if known is not None and known[0] is fields:
        return known[1]
    made = [_param(f) for f in fields]
    plan = None if any(p is None for p in made) else tuple(p for p in made if p is not None)
    if len(_plans) >= PLANS_KEPT:
        _plans.clear()
    _plans[id(fields)] = (fields, plan)
    return plan


def request_params_to_args(
    fields: Sequence[ModelField],
    received_params: Mapping[str, Any] | QueryParams | Headers,
) -> tuple[dict[str, Any], list[Any]]:
    """FastAPI's function of the same name, by a plan (see the module's docstring)."""
    values: dict[str, Any] = {}
    errors: list[Any] = []
    if not fields:
        return values, errors
    plan = _plan(fields)
    if plan is None or isinstance(received_params, FormData):
        return _original(fields, received_params)
    multi = isinstance(received_params, (ImmutableMultiDict, Headers))
    for p in plan:
        value = (
            received_params.getlist(p.alias)  # type: ignore[union-attr]
            if p.many and multi
            else received_params.get(p.alias, None)
        )
        if value is None or (p.sequence and len(value) == 0):
            if p.required:
                errors.append(fastapi_utils.get_missing_field_error(loc=p.loc))
                continue
            value = deepcopy(p.default) if p.copy_default else p.default
            if not p.validate_default:
                values[p.name] = value
                continue
        v_, errors_ = p.field.validate(value, values, loc=p.loc)
        if errors_:
            errors.extend(errors_)
        else:
            values[p.name] = v_
    return values, errors


def install() -> None:
    """Put the planned function in FastAPI's place (idempotent)."""
    if not hasattr(fastapi_utils, "request_params_to_args"):
        raise FastAPIError("FastAPI's request_params_to_args is gone: see api/fast_params.py")
    fastapi_utils.request_params_to_args = request_params_to_args
