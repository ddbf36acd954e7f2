"""Schemathesis over the whole OpenAPI document: no input gives a 5xx, and every response matches
what the document declares (status code, content type, body schema) — issue 14 point 2.

Real data is behind the routes: every `{tenant_id}` is the test world's tenant and every id whose
name the world knows (user, device, queue, recording, voicemail message, call record) is a real
one, so the generated requests reach the handlers, not only the 404 of an unknown id. A fixed
number of examples per operation keeps the run bounded (a few minutes on two cores)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from centrex.api.app import create_app
from centrex.store.db import transaction
from tests.support.world import World, build_world

EXAMPLES = 6  # per operation; ~200 operations


class Fuzz:
    def __init__(self, world: World) -> None:
        self.world = world
        a = world.a
        self.ids: dict[str, str] = {"tenant_id": str(a.id)}
        aliases = {"message": "vm_message", "pop": "peering_pop"}
        for name in (
            "user",
            "device",
            "queue",
            "recording",
            "message",
            "cdr",
            "alarm",
            "ticket",
            "peer",
            "pop",
            "webhook",
            "flow",
        ):
            key = aliases.get(name, name)
            if key in a.ids:
                self.ids[f"{name}_id"] = str(a.ids[key])

    def token(self, path: str) -> str:
        # The caller's own resources (/me) need a user's token; the operator may do everything else.
        return self.world.a.tokens["office_admin"] if "/me" in path else self.world.operator_token


@pytest.fixture
def fuzz_app(db_url: str) -> Iterator[tuple[Any, Fuzz]]:
    app = create_app(db_url)
    with transaction(app.state.sessionmaker) as session:
        world = build_world(session)
    yield app, Fuzz(world)
    app.state.engine.dispose()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_input_gives_a_server_error_or_breaks_the_document(fuzz_app: tuple[Any, Fuzz]) -> None:
    app, fuzz = fuzz_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
            def run(case: Any) -> None:
                if case.path_parameters:
                    case.path_parameters = {k: fuzz.ids.get(k, v) for k, v in case.path_parameters.items()}
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {fuzz.token(case.path)}"}, checks=CHECKS
                )

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to make invalid (an operation without parameters or body)
            except (Exception, BaseExceptionGroup) as exc:  # all operations run; failures listed together
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    assert operations > 150  # the whole document, not a part of it
    assert not failures, f"{len(failures)} failing operations:\n\n" + "\n\n".join(failures)
