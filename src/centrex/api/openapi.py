"""The OpenAPI document as generated clients need it (issue 14 point 3).

FastAPI's own document declares neither how to authenticate nor the error body the API really
answers, names operations after their paths, and leaves binary downloads untyped. This completes
it once, when /openapi.json is first asked for:

- the bearer scheme (`Authorization: Bearer cx_...`), or the portal's session cookie, on every
  operation but /healthz and the log-in routes;
- the error body of api/errors.py (`{error, message, field?, rule?, errors?}`) on 401, 403, 404,
  409, 422 and 503, instead of FastAPI's `{detail}` that no response ever had;
- binary responses (PDF, WAV, CSV) typed as `string`/`binary`, as generators expect;
- the `Idempotency-Key` header on creating requests (api/idempotency.py).

Operation ids are the endpoint functions' names (`list_users`, `invoice_pdf`): stable across
releases as long as a function keeps its name, and what a generated client's methods are called.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "a stable code: not_found, conflict, ..."},
        "message": {"type": "string", "description": "what was wrong, for a person"},
        "field": {"type": "string", "description": "the field at fault, when there is one"},
        "rule": {"type": "string", "description": "the rule it broke (unique, e164, ...)"},
        "errors": {
            "type": "array",
            "description": "every field that failed validation (422)",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

ERROR_REF = {"$ref": "#/components/schemas/Error"}

STANDARD = {
    "400": "the body is not JSON (or not the declared content type)",
    "401": "no valid bearer token",
    "403": "the caller's role may not do this",
    "404": "no such resource in this tenant (another tenant's resources are not found either)",
    "409": "conflicts with existing data (a duplicate, a resource in use)",
    "422": "the request is invalid: `field` and `rule` name what to fix",
    "503": "overloaded or the database is busy: retry after `Retry-After` seconds",
}

CREATING = ("post", "put")
BINARY = ("application/pdf", "audio/wav", "text/csv", "application/zip")


def operation_id(route: APIRoute) -> str:
    return route.name


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(spec: dict[str, Any]) -> dict[str, Any]:
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token (`centrex token create`, or POST .../tokens): cx_<prefix>.<secret>",
        },
        # The portal's session (docs/portal-auth.md): changes made with it also need X-CSRF-Token.
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "centrex_session",
            "description": "the portal's session from POST /api/v1/auth/login; a change (not GET) made"
            " with it needs the centrex_csrf cookie's value in the X-CSRF-Token header",
        },
    }
    spec["security"] = [{"bearer": []}, {"session": []}]
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method == "parameters":
                continue
            if not path.startswith("/api/"):
                op["security"] = []
                continue
            _errors(op, method)
            _binary(op)
            if method in CREATING:
                op.setdefault("parameters", []).append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "retrying with the same key within 24 h answers the first "
                        "response again instead of creating twice",
                        "schema": {"type": "string", "maxLength": 200},
                    }
                )
    return spec


def _errors(op: dict[str, Any], method: str) -> None:
    responses = op.setdefault("responses", {})
    codes = ["401", "403", "404", "422", "503"]
    if method in ("post", "put", "patch", "delete"):
        codes.append("409")
    if "requestBody" in op:
        codes.append("400")
    for code in codes:
        entry = responses.setdefault(code, {"description": STANDARD[code]})
        entry["content"] = {"application/json": {"schema": ERROR_REF}}
        if entry.get("description") in (None, "", "Validation Error"):
            entry["description"] = STANDARD[code]


def _binary(op: dict[str, Any]) -> None:
    for code, resp in op.get("responses", {}).items():
        content = resp.get("content") or {}
        typed = [ct for ct in content if ct in BINARY]
        if not typed or not code.startswith("2"):
            continue
        resp["content"] = {ct: {"schema": {"type": "string", "format": "binary"}} for ct in typed}
