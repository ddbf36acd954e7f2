"""Errors of the data layer. Each names the field or rule, so the API can say exactly what is wrong."""

from __future__ import annotations


class StoreError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule


class NotFound(StoreError):
    """Also what another tenant's resource looks like: 404, never 403, so existence is not confirmed."""

    status = 404
    code = "not_found"


class Forbidden(StoreError):
    status = 403
    code = "forbidden"


class Conflict(StoreError):
    status = 409
    code = "conflict"


class Invalid(StoreError):
    status = 422
    code = "validation_error"
