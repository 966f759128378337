"""The published OpenAPI document matches what the API does: schemathesis generates requests for
every operation from the document (valid and invalid input, real ids of a merchant with one of
everything) and checks that no answer is a server error, every status is declared, and every body
matches its declared schema. Bounded (``FUZZ_EXAMPLES`` per operation) so it fits in CI."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from ninja import Schema

from ecbridge.api.api import api
from ecbridge.tenancy.models import ApiToken
from tests.world import build_world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def token(db, sandbox, merchant, operator):
    world = build_world(merchant, operator)
    _token, raw = ApiToken.issue(operator, "fuzz")
    # Like Django's test client: the end of a request must not close the connection that holds
    # the test's transaction (PostgreSQL would lose it).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield world, raw
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same requests on every run: a failure can be replayed
)
@pytest.mark.django_db(transaction=False)
def test_every_operation_conforms_to_the_document(case, token):
    world, raw = token
    # most generated ids name nothing; half of the cases use the world's real ones instead
    if case.path_parameters:
        real = world.ids()
        for name in case.path_parameters:
            if name in real and len(repr(case.query) + repr(case.body)) % 2 == 0:
                case.path_parameters[name] = real[name]
    case.call_and_validate(headers={"Authorization": f"Bearer {raw}"}, checks=CHECKS)


def test_every_schema_name_is_defined_once():
    """Two schemas with one name: the document keeps one of them and lies about the other."""
    names: dict[str, set[str]] = {}

    def walk(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("ecbridge.") and not sub.__module__.startswith("ecbridge.sandbox"):
                names.setdefault(sub.__name__, set()).add(sub.__module__)
            walk(sub)

    walk(Schema)
    assert {name: mods for name, mods in names.items() if len(mods) > 1} == {}
