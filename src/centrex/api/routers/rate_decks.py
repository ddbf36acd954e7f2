"""Rate decks: the operator imports a CSV deck; each import is a new immutable version."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from centrex.api.deps import OperatorDep
from centrex.billing import deck_service as decks
from centrex.store.errors import Invalid

router = APIRouter(tags=["billing"])

MAX_DECK_BYTES = 64 * 1024 * 1024


class DeckVersionOut(BaseModel):
    deck_id: uuid.UUID
    name: str
    version: int | None
    version_id: uuid.UUID | None
    rows: int
    fingerprint: str | None
    imported_by: str | None
    imported_at: datetime | None


def deck_out(deck: Any, version: Any) -> DeckVersionOut:
    return DeckVersionOut(
        deck_id=deck.id,
        name=deck.name,
        version=version.version if version else None,
        version_id=version.id if version else None,
        rows=version.row_count if version else 0,
        fingerprint=version.fingerprint if version else None,
        imported_by=version.imported_by if version else None,
        imported_at=version.created_at if version else None,
    )


async def read_deck_upload(request: Request, name: str | None) -> tuple[str, str]:
    """The deck's name and CSV text from a `text/csv` body with `?name=` or JSON {name, csv}."""
    raw = await request.body()
    if len(raw) > MAX_DECK_BYTES:
        raise Invalid(f"a deck upload is at most {MAX_DECK_BYTES} bytes", field="csv", rule="size")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw)
            name, text = str(body["name"]), str(body["csv"])
        except (ValueError, KeyError, TypeError):
            raise Invalid('JSON body must be {"name": ..., "csv": ...}', field="body", rule="json") from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("the CSV must be UTF-8", field="csv", rule="utf-8") from None
    if not name:
        raise Invalid("the deck needs a name (?name=)", field="name", rule="required")
    return name, text


@router.post("/rate-decks", response_model=DeckVersionOut, status_code=201)
async def import_deck(
    request: Request, ops: OperatorDep, name: Annotated[str | None, Query(max_length=100)] = None
) -> Any:
    """Upload a deck: `Content-Type: text/csv` with `?name=`, or JSON `{"name": ..., "csv": ...}`.
    Columns: prefix, rate_per_minute, effective_from [, destination, connection_fee, minimum_s,
    increment_s, effective_to]. A bad deck is refused whole, naming each bad line and field."""
    ops.require_operator()
    name, text = await read_deck_upload(request, name)
    deck_name = name
    made = await run_in_threadpool(lambda: decks.import_deck(ops, deck_name, io.StringIO(text, newline="")))
    return deck_out(made.deck, made.version)


@router.get("/rate-decks", response_model=list[DeckVersionOut])
def list_decks(ops: OperatorDep) -> Any:
    return [deck_out(deck, version) for deck, version in decks.list_decks(ops)]
