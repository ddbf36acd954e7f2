"""The company directory (hosted-pbx.txt MAC 6): listed users plus entries the administrator adds."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Destination, Out, Page, page_of
from centrex.store.models import DirectoryEntry, User
from centrex.store.policy import Resource

router = APIRouter(prefix="/tenants/{tenant_id}/directory", tags=["directory"])


class EntryIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    number: Destination
    department: str | None = Field(None, max_length=100)


class EntryPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    number: Destination | None = None
    department: str | None = Field(None, max_length=100)


class EntryOut(Out):
    id: uuid.UUID
    name: str
    number: str
    department: str | None


class Listing(BaseModel):
    name: str
    number: str
    source: str  # "user" or "entry"


@router.get("", response_model=Page[Listing])
def directory(data: TenantDep, paging: PagingDep, q: str | None = None) -> Any:
    """What a phone's directory shows: listed users by extension, then the added entries."""
    users = data.select(User, Resource.DIRECTORY).where(User.directory_listed.is_(True))
    entries = data.select(DirectoryEntry)
    if q:
        users = users.where(User.name.ilike(f"%{q}%"))
        entries = entries.where(DirectoryEntry.name.ilike(f"%{q}%"))
    listing = [Listing(name=u.name, number=u.extension, source="user") for u in data.session.scalars(users)]
    listing += [Listing(name=e.name, number=e.number, source="entry") for e in data.session.scalars(entries)]
    listing.sort(key=lambda item: item.name.lower())
    return page_of(
        listing[paging.offset : paging.offset + paging.limit], len(listing), paging.limit, paging.offset
    )


@router.get("/entries", response_model=Page[EntryOut])
def list_entries(data: TenantDep, paging: PagingDep) -> Any:
    rows, total = data.page(
        data.select(DirectoryEntry).order_by(DirectoryEntry.name), paging.limit, paging.offset
    )
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/entries", response_model=EntryOut, status_code=201)
def create_entry(body: EntryIn, data: TenantDep) -> Any:
    return data.create(DirectoryEntry, "mac.company_directory", **body.model_dump())


@router.patch("/entries/{entry_id}", response_model=EntryOut)
def patch_entry(entry_id: uuid.UUID, body: EntryPatch, data: TenantDep) -> Any:
    entry = data.get(DirectoryEntry, entry_id)
    return data.update(entry, "mac.company_directory", body.model_dump(exclude_unset=True, exclude_none=True))


@router.delete("/entries/{entry_id}", status_code=204)
def delete_entry(entry_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(DirectoryEntry, entry_id), "mac.company_directory")
