"""api/fast_params.py reads parameters by a plan made once per route: for every parameter list of
every route of the real application, and inputs a caller might send (nothing, good values, bad
ones, empty ones, repeated ones, out of bounds), it must give exactly FastAPI's own values and
errors — the 422 a caller sees names the same fields with the same messages."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, QueryParams

from centrex.api import fast_params
from centrex.api.app import create_app

SAMPLES = ["1", "50", "0", "-5", "abc", "", "true", "9223372036854775808", str(uuid.UUID(int=7)), "x" * 300]


def dependants(app: Any) -> Iterator[Dependant]:
    def walk(d: Dependant) -> Iterator[Dependant]:
        yield d
        for sub in d.dependencies:
            yield from walk(sub)

    for route in app.routes:
        if isinstance(route, APIRoute):
            yield from walk(route.dependant)


def inputs(aliases: list[str]) -> Iterator[list[tuple[str, str]]]:
    yield []
    for alias, sample in itertools.product(aliases, SAMPLES):
        yield [(alias, sample)]
    for sample in SAMPLES[:6]:
        yield [(a, sample) for a in aliases]  # every parameter at once
    for alias in aliases:
        yield [(alias, "1"), (alias, "2")]  # repeated


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    made = create_app(f"sqlite:///{tmp_path_factory.mktemp('fp') / 'c.sqlite3'}")
    yield made
    made.state.engine.dispose()


def test_planned_reading_gives_fastapis_values_and_errors(app: Any) -> None:
    planned = 0
    compared = 0
    for dependant in dependants(app):
        for fields, kind in (
            (dependant.path_params, "path"),
            (dependant.query_params, "query"),
            (dependant.header_params, "header"),
            (dependant.cookie_params, "cookie"),
        ):
            if not fields:
                continue
            planned += fast_params._plan(fields) is not None
            aliases = [f.alias for f in fields]
            for pairs in inputs(aliases):
                received: Any
                if kind == "query":
                    received = QueryParams(pairs)
                elif kind == "header":
                    received = Headers(raw=[(k.lower().encode(), v.encode("latin-1")) for k, v in pairs])
                else:
                    received = dict(pairs)
                ours = fast_params.request_params_to_args(fields, received)
                theirs = fast_params._original(fields, received)
                assert ours == theirs, (dependant.call, kind, pairs)
                compared += 1
    assert planned > 100  # the plan is taken for the routes' parameters, not handed back to FastAPI
    assert compared > 5000


def test_installed_in_the_application(app: Any) -> None:
    import fastapi.dependencies.utils as fastapi_utils

    assert fastapi_utils.request_params_to_args is fast_params.request_params_to_args
