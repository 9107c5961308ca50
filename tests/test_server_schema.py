"""schemathesis over the server's own OpenAPI document, against a live uvicorn on 127.0.0.1.

Every generated request, valid and invalid by the schema, must get a documented status, a JSON
body of the documented shape, the documented headers, and never a 5xx. (schemathesis's pytest
plugin does not run under pytest 9 yet, so the operations are driven with hypothesis directly.)
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_server import config, running, wait_ready  # noqa: E402, F401  (config: the same server fixture)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@pytest.fixture(scope="module")
def live(config):  # noqa: F811  (the fixture imported from test_server)
    with running(config) as base:
        wait_ready(base)
        yield base, schemathesis.openapi.from_url(f"{base}/openapi.json")


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def test_the_schema_lists_every_route(live):
    _, schema = live
    assert sorted(op.label for op in operations(schema)) == ["GET /health", "GET /metrics", "GET /models", "POST /", "POST /models/{model_id}"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_answers_as_documented(live, mode):
    base, schema = live
    for operation in operations(schema):
        if mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET":
            continue  # the GET routes take no input, so there is nothing to make invalid
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            case.call_and_validate(base_url=base, checks=CHECKS, timeout=60)

        check()
