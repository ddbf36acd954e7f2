"""Shapes Twilio's answers share: RFC 2822 dates, list pages, resource URIs."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"


def rfc2822(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return format_datetime(when.astimezone(UTC), usegmt=False).replace("-0000", "+0000")


def account_uri(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def list_page(
    key: str, items: list[dict[str, Any]], uri: str, page: int, page_size: int, more: bool
) -> dict[str, Any]:
    """A Twilio list page: the items under their plural key and the paging fields the helper reads."""
    base = f"{uri}.json"
    return {
        key: items,
        "uri": f"{base}?PageSize={page_size}&Page={page}",
        "first_page_uri": f"{base}?PageSize={page_size}&Page=0",
        "next_page_uri": f"{base}?PageSize={page_size}&Page={page + 1}" if more else None,
        "previous_page_uri": f"{base}?PageSize={page_size}&Page={page - 1}" if page > 0 else None,
        "page": page,
        "page_size": page_size,
        "start": page * page_size,
        "end": page * page_size + max(len(items) - 1, 0),
    }
