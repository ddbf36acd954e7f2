from tests.api.conftest import api, session_factory  # noqa: F401  (the API fixtures, for these tests too)
