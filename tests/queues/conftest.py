"""The API fixture of tests/api (a world of two tenants with a person in every role)."""

from tests.api.conftest import api, session_factory  # noqa: F401
