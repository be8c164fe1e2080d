"""The API fuzzed from its own OpenAPI description (schemathesis): cases generated from
`GET /openapi.json`, valid and invalid, sent to a live server on a temp area. No call may be
answered with a 5xx, and answers must match what the description says; every endpoint
refuses a call without the secret.

Bounded for CI: a fixed number of examples per operation, derandomized, so a failure found
once is found again on the next run.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.server.conftest import Served

EXAMPLES = 60  # per operation: about 5 s in all
# Left out: "a schema-valid request is accepted". A well-formed write names a run and tests
# that the generated numbers rarely match, and the server answers those with 400 and one line
# (tests/server/test_writes.py), which that check counts only as 404.


@pytest.fixture
def served(run_area):
    server = Served(run_area.root)
    yield server
    server.stop()


@pytest.fixture
def api(served):
    """The description as the live server serves it, with the server as its base URL."""
    port = served.server.server_address[1]
    return schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/openapi.json",
                                         headers={"Authorization": f"Bearer {served.secret}"})


def test_no_call_fails_on_the_server(api, served):
    auth = {"Authorization": f"Bearer {served.secret}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /ping", "POST /runs/{run_id}/writes"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_without_a_server_error(case):
            case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])

        answers_without_a_server_error()


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer not-the-secret"}],
                         ids=["no secret", "wrong secret"])
def test_every_endpoint_refuses_a_call_without_the_secret(api, served, auth):
    operations = [result.ok() for result in api.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def refused(case):
            assert case.call(headers=auth).status_code == 401

        refused()
    # schemathesis leaves GET /openapi.json out of its operations: every path, called plainly
    port = served.server.server_address[1]
    for path, methods in api.raw_schema["paths"].items():
        for method in methods:
            url = f"http://127.0.0.1:{port}{path.replace('{run_id}', '1')}"
            assert requests.request(method, url, headers=auth, json={}).status_code == 401, url
