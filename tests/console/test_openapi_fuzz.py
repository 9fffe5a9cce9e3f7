"""The console's OpenAPI document, fuzzed with schemathesis against the live console, signed
in as a community manager (with the CSRF header), on SQLite and PostgreSQL: no answer is a
server error and every answer matches the document (status code, content type, body)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from rallybot.handlers.console.kit import COOKIE
from rallybot.handlers.console.sessions import create_session, find_session
from tests.console.conftest import MANAGER, ConsoleEnv, LiveConsole

EXAMPLES = 8
"""Examples per operation: a smoke fuzz that keeps the suite quick (raise it to dig)."""


@dataclass
class Target:
    """Where the fuzzed requests go."""

    url: str
    env: ConsoleEnv
    schema: OpenApiSchema

    async def manager(self) -> tuple[dict[str, str], dict[str, str]]:
        """A fresh manager's session: its cookie and its CSRF header (a fuzzed erase or
        sign-out may end the previous one)."""
        now = self.env.clock.now()
        token = await create_session(self.env.db, MANAGER, now, timedelta(hours=1))
        session = await find_session(self.env.db, token, now)
        assert session is not None
        return {COOKIE: token}, {"X-CSRF-Token": session.csrf_token}


@pytest.fixture
async def target(live_console: LiveConsole) -> Target:
    """The live console's API document."""
    schema = schemathesis.openapi.from_url(f"{live_console.url}/api/openapi.json")
    return Target(live_console.url, live_console.env, schema)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzzer(
    operation: APIOperation, url: str, cookies: dict[str, str], headers: dict[str, str]
) -> Callable[[], None]:
    """A Hypothesis test of ``operation``: every generated request answers as documented."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure is reproducible
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def fuzz(case: Case) -> None:
        # The server runs in its own thread and loop: blocking here is fine.
        case.call_and_validate(base_url=url, headers=headers, cookies=cookies, checks=CHECKS)

    return fuzz


async def test_every_api_route_answers_as_documented(target: Target) -> None:
    # The JSON API: the document also lists the sign-in pages, which answer in HTML.
    operations = [
        op
        for op in (result.ok() for result in target.schema.get_all_operations())
        if op.path.startswith("/api/")
    ]
    assert len(operations) >= 10, [op.label for op in operations]
    failures: dict[str, str] = {}
    for operation in operations:
        cookies, headers = await target.manager()
        try:
            _fuzzer(operation, target.url, cookies, headers)()
        except (AssertionError, BaseExceptionGroup) as exc:  # every operation, all told
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
