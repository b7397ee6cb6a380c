"""Property-based fuzzing of every operation of the live OpenAPI schema (schemathesis),
against a real ``atelier serve`` on SQLite and on PostgreSQL, as an admin and without
credentials: no 5xx, every error in the ``{"error", "detail"}`` shape, every response
conforming to the schema — and the fuzzing admin still signed in at the end.

Bounded for CI (`EXAMPLES` per operation, mode and credential); `bench/api_fuzz.py`
runs the same loop with many more examples.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from served import Served, atelier_serve
from tests.pg import find_admin_dsn, throwaway_database

EXAMPLES = int(os.environ.get("ATELIER_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Operations whose 401 answers concern the body's credential, not the caller's.
ASKS_ABOUT_A_KEY = {"POST /api/validate-key"}


@dataclass
class Identities:
    fuzzer_id: str
    fuzzer_key: str
    fuzzer_key_id: str
    fixed: dict[str, str]  # path parameters that name real objects (not the fuzzer)


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unauthorized_while_signed_in: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Answers to PATCH /admin/users/{the fuzzer's own id} {"active": false}.
    self_disable: Counter[int] = field(default_factory=Counter)


def _prepare(served: Served) -> Identities:
    """A dedicated fuzzing admin, a user with a finished job, a template, a spare key."""
    base, boot = served.base_url, served.headers()
    with httpx.Client(base_url=base, timeout=60) as c:
        fuzzer = c.post("/admin/users", headers=boot, json={"name": "fuzzer", "role": "admin"})
        assert fuzzer.status_code == 201, fuzzer.text
        me = fuzzer.json()
        keys = c.get(f"/admin/users/{me['id']}/keys", headers=boot).json()
        victim = c.post("/admin/users", headers=boot, json={"name": "victim"}).json()
        spare = c.post(f"/admin/users/{victim['id']}/keys", headers=boot, json={}).json()
        c.post("/api/templates", headers=boot, json={"id": "fuzz-t", "name": "F"})
        job = c.post(
            "/api/jobs",
            headers={"X-API-Key": me["api_key"]},
            json={"prompt": "A calculator.", "options": {"script": served.fast_script}},
        ).json()["job_id"]
        for _ in range(600):
            status = c.get(f"/api/jobs/{job}", headers=boot).json()["status"]
            if status in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.1)
    return Identities(
        fuzzer_id=me["id"],
        fuzzer_key=me["api_key"],
        fuzzer_key_id=keys[0]["id"],
        fixed={
            "job_id": job,
            "user_id": victim["id"],
            "key_id": spare["id"],
            "template_id": "fuzz-t",
            "path": "calc.py",
        },
    )


def _locks_fuzzer_out(case: Any, who: Identities) -> bool:
    """Revoking its own API key ends the fuzzer's session legitimately: not sent.
    Disabling or demoting itself is sent (see `_fuzz_operation`'s "self" pass): the
    admin self-protection guard answers 409 and the fuzzer stays signed in."""
    key_id = (case.path_parameters or {}).get("key_id")
    prefix = who.fuzzer_key.split("_")[1]
    return key_id in (who.fuzzer_key_id, prefix, "atl_" + prefix)


def _first_line(failure: Failure) -> str:
    lines = (line for line in failure.message.splitlines() if line.strip())
    return next(lines, "")[:300]


def _error_shape(response: Any) -> str | None:
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"non-JSON error body: {response.text[:200]!r}"
    if not isinstance(body, dict) or not {"error", "detail"} <= set(body):
        return f"error body not in the {{error, detail}} shape: {str(body)[:200]}"
    if set(body) - {"error", "detail", "request_id"}:
        return f"unexpected error fields: {sorted(body)}"
    return None


def _fuzz_operation(
    operation: Any, served: Served, who: Identities, tally: Tally, fixed: bool, own: bool = False
) -> None:
    names = {p.name for p in operation.path_parameters}
    path_parameters = {k: v for k, v in who.fixed.items() if k in names} if fixed else None
    if own and path_parameters is not None:
        path_parameters["user_id"] = who.fuzzer_id
    session = requests.Session()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz_mode(operation, mode, path_parameters, served, who, tally, session)


def _fuzz_mode(
    operation: Any,
    mode: GenerationMode,
    path_parameters: dict[str, str] | None,
    served: Served,
    who: Identities,
    tally: Tally,
    session: requests.Session,
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    signed_in = {"X-API-Key": who.fuzzer_key}
    strategy = operation.as_strategy(mode, path_parameters=path_parameters)

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if _locks_fuzzer_out(case, who):
            return
        for credential, headers in (("admin", signed_in), ("anonymous", {})):
            response = case.call(
                base_url=served.base_url, session=session, headers=headers, timeout=60
            )
            tally.requests += 1
            if (
                credential == "admin"
                and label == "PATCH /admin/users/{user_id}"
                and (case.path_parameters or {}).get("user_id") == who.fuzzer_id
                and isinstance(case.body, dict)
                and case.body.get("active") is False
            ):
                tally.self_disable[response.status_code] += 1
            tally.statuses[response.status_code] += 1
            where = f"{label} [{mode.value}, {credential}] → {response.status_code}"
            if (
                credential == "admin"
                and response.status_code == 401
                and label not in ASKS_ABOUT_A_KEY
            ):
                tally.unauthorized_while_signed_in.append(where)
            shape = _error_shape(response)
            if shape:
                tally.failures.append(f"{where}: {shape}")
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:  # checks failed: record them, keep fuzzing
                for failure in group.exceptions:
                    tally.failures.append(f"{where}: {failure.title}: {_first_line(failure)}")
            except Failure as failure:
                tally.failures.append(f"{where}: {failure.title}: {_first_line(failure)}")

    try:
        run()
    except Unsatisfiable:
        # Nothing in this operation can be made invalid (no parameters, no body).
        assert mode is GenerationMode.NEGATIVE, label


def fuzz(served: Served) -> Tally:
    """Every operation of the served schema, with and without credentials."""
    who = _prepare(served)
    schema = schemathesis.openapi.from_url(served.base_url + "/openapi.json")
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    # Destructive operations last, so they do not remove what the others are fuzzing.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    for operation in operations:
        _fuzz_operation(operation, served, who, tally, fixed=False)
        if operation.path_parameters:
            _fuzz_operation(operation, served, who, tally, fixed=True)
        if any(p.name == "user_id" for p in operation.path_parameters):
            # The fuzzer about itself: PATCH /admin/users/{own id} {"active": false} …
            _fuzz_operation(operation, served, who, tally, fixed=True, own=True)
    # Still signed in: the fuzzer's own key works after everything it did — including
    # the exact request that locked the fuzzing admin out in issue 18.
    with httpx.Client(base_url=served.base_url, timeout=30) as c:
        own = c.patch(
            f"/admin/users/{who.fuzzer_id}",
            headers={"X-API-Key": who.fuzzer_key},
            json={"active": False},
        )
        tally.self_disable[own.status_code] += 1
        assert own.status_code == 409, own.text
        assert own.json()["error"] == "conflict", own.text
        r = c.get("/admin/users", headers={"X-API-Key": who.fuzzer_key})
        assert r.status_code == 200, f"the fuzzing admin lost its session: {r.text}"
        assert c.get("/health", timeout=30).status_code == 200
    return tally


def _assert_clean(tally: Tally) -> None:
    server_errors = {s: n for s, n in tally.statuses.items() if s >= 500}
    statuses = json.dumps(dict(sorted(tally.statuses.items())))
    print(f"\nfuzz: {tally.requests} requests, statuses {statuses}")
    assert tally.requests > 500
    assert not server_errors, f"5xx answers: {server_errors}\n" + "\n".join(tally.failures[:40])
    # The lock-out of issue 18 (an admin disabling itself) never went through.
    assert not set(tally.self_disable) - {409, 422}, tally.self_disable
    assert not tally.unauthorized_while_signed_in, (
        "the fuzzing admin was answered 401:\n" + "\n".join(tally.unauthorized_while_signed_in[:20])
    )
    assert not tally.failures, f"{len(tally.failures)} failures:\n" + "\n".join(tally.failures[:60])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    admin = asyncio.run(find_admin_dsn())
    if admin is None:
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
    with throwaway_database(admin, "atelier_fuzz", migrated=False) as url:
        yield url


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_fuzz_every_operation_on_sqlite(tmp_path: Path) -> None:
    with atelier_serve(tmp_path, default_delay_s=600) as served:
        _assert_clean(fuzz(served))


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_fuzz_every_operation_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with atelier_serve(tmp_path, postgres_url, default_delay_s=600) as served:
        _assert_clean(fuzz(served))
