"""Routing by path segments instead of a linear scan (issue 14: CPU per request).

FastAPI keeps each included router as one entry and tries them in turn, and each tries its routes
in turn: reaching the users routes cost ~0.45 ms, the largest single part of a simple GET
(docs/performance.md, "API"). Here:

- `flatten` adds every route of an `APIRouter` to the application's own router, as FastAPI's
  `include_router` did before 0.120 (the same route class, path, dependencies, responses and
  operation id; the OpenAPI document is unchanged, which tests/api/test_dispatch.py checks);
- `SegmentDispatch`, put in front of the application's router, keeps a tree of the routes' path
  segments (a literal segment or "any one segment" for a `{parameter}`), so a request finds the
  two or three routes whose shape fits its path and matches only those, in their original order.
  The first full match is handled as Starlette's router would (`scope.update`, `route.handle`);
  anything else (405, a redirect for a trailing slash, 404, a mounted app) goes to the router
  itself, so behaviour is the router's own.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match, Route, Router
from starlette.types import Receive, Scope, Send

from centrex.api.deps import current_session


def _run_and_commit(endpoint: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    result = endpoint(*args, **kwargs)
    session = current_session.get()  # the thread runs in a copy of the request's context
    if session is not None and session.in_transaction():
        session.commit()
        session.info["committed"] = True
    return result


def one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A sync endpoint as an async one that runs it and commits the request's transaction in ONE
    worker thread (FastAPI would take three: the endpoint, the response check, the commit).

    Same signature (`functools.wraps`: FastAPI reads the endpoint's parameters and their types
    through `__wrapped__`), same result; the response is checked on the event loop after. The
    commit still comes before the response is sent (a 2xx means stored), and an exception — from
    the endpoint or the commit — rolls back in get_session as before."""

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(_run_and_commit, endpoint, args, kwargs)

    return run


def flatten(app: FastAPI, router: APIRouter, prefix: str = "") -> bool:
    """Add `router`'s routes to `app` one by one; False (nothing added) if one is not an APIRoute."""
    if not all(isinstance(r, APIRoute) for r in router.routes):
        return False
    for route in router.routes:
        assert isinstance(route, APIRoute)
        endpoint = route.endpoint
        if not (inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint)):
            endpoint = one_hop(endpoint)
        app.router.add_api_route(
            prefix + route.path,
            endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
        )
    return True


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    routes: list[int] = field(default_factory=list)  # indexes into the router's routes


def _segments(path: str) -> list[str]:
    return path.split("/")[1:]


class SegmentDispatch:
    """The router's entry point (its `middleware_stack`): the segment tree first, the router after."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.fallback = router.app
        self._built_for = -1
        self._root = _Node()
        self._always: list[int] = []  # routes the tree cannot place (a {path:path}, a Mount)
        self._routes: list[Any] = []

    def _build(self) -> None:
        routes = list(self.router.routes)
        root, always = _Node(), []
        for index, route in enumerate(routes):
            path = getattr(route, "path", None)
            if not isinstance(route, Route) or path is None or ":path}" in path:
                always.append(index)
                continue
            node = root
            for segment in _segments(path):
                if "{" in segment:
                    if segment.startswith("{") and segment.endswith("}") and segment.count("{") == 1:
                        node.param = node.param or _Node()
                        node = node.param
                    else:  # a parameter inside a segment ("{id}.pdf"): placed by its shape alone
                        always.append(index)
                        break
                else:
                    node = node.literal.setdefault(segment, _Node())
            else:
                node.routes.append(index)
        self._root, self._always, self._routes = root, always, routes
        self._built_for = len(routes)

    def _candidates(self, path: str) -> list[int]:
        found: list[int] = list(self._always)
        nodes = [self._root]
        for segment in _segments(path):
            following = []
            for node in nodes:
                child = node.literal.get(segment)
                if child is not None:
                    following.append(child)
                if node.param is not None and segment:
                    following.append(node.param)
            nodes = following
            if not nodes:
                break
        for node in nodes:
            found.extend(node.routes)
        found.sort()  # the router's own order: the first full match wins, as in its scan
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        if self._built_for != len(self.router.routes):
            self._build()
        # Only a full match is taken here; a 405 (a partial match), a redirect or a 404 is the router's.
        for index in self._candidates(get_route_path(scope)):
            route = self._routes[index]
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self.router)
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.fallback(scope, receive, send)


def install(app: FastAPI) -> None:
    app.router.middleware_stack = SegmentDispatch(app.router)
