"""Error bodies: every 4xx names the field and the rule that was broken."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from centrex.store.errors import StoreError


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "rule": e.get("type", "invalid"), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return JSONResponse(
            status_code=422,
            content={
                "error": "validation_error",
                "message": f"{first['field']}: {first['message']}",
                "errors": errors,
            },
        )

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        if exc.rule:
            body["rule"] = exc.rule
        return JSONResponse(status_code=exc.status, content=body)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # The checks in the routes name the field; this is the database's last word on a race.
        return JSONResponse(
            status_code=409,
            content={"error": "conflict", "message": "duplicate or conflicting value", "rule": "unique"},
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(_: Request, exc: PoolTimeout) -> JSONResponse:
        # No connection freed within the pool's timeout (store/db.py): a clear "later", not a hang.
        return _unavailable("the database is busy; retry shortly")

    @app.exception_handler(OperationalError)
    async def _operational(_: Request, exc: OperationalError) -> JSONResponse:
        # The database is locked, restarting or unreachable: the request may succeed again later.
        return _unavailable("the database is unavailable; retry shortly")

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (out of range, too long) that no check caught first.
        return JSONResponse(
            status_code=422,
            content={
                "error": "validation_error",
                "message": "a value is out of range or too long",
                "rule": "database_range",
                "errors": [],
            },
        )

    @app.exception_handler(ArithmeticError)
    async def _arithmetic(_: Request, exc: ArithmeticError) -> JSONResponse:
        # A number past what can be stored or computed: SQLite's driver refuses integers past 64
        # bits, Decimal arithmetic overflows on absurd inputs that no field bound caught first.
        return JSONResponse(
            status_code=422,
            content={
                "error": "validation_error",
                "message": "a number is too large",
                "rule": "database_range",
                "errors": [],
            },
        )

    @app.exception_handler(DBAPIError)
    async def _dbapi(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return _unavailable("the database connection was lost; retry shortly")
        raise exc

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
            content={"error": _code(exc.status_code), "message": str(exc.detail)},
        )


def _unavailable(message: str) -> JSONResponse:
    return JSONResponse(
        status_code=503, headers={"Retry-After": "1"}, content={"error": "unavailable", "message": message}
    )


def _code(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
    }.get(status, "error")
