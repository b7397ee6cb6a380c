"""WebSocket /ws on a real uvicorn server: replay then live, per-job order, isolation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from api_harness import LiveServer, api_postgres_url, api_sqlite_template, db_url, live
from api_scripts import BUGGY_CODE

__all__ = ["api_postgres_url", "api_sqlite_template", "db_url", "live"]

Socket = websockets.ClientConnection


async def recv(ws: Socket, timeout: float = 30.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def recv_until(ws: Socket, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Messages (heartbeats dropped) up to and including the first matching one."""
    out: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        message = await recv(ws, max(0.1, left))
        if message["type"] == "heartbeat":
            continue
        out.append(message)
        if predicate(message):
            return out


def is_finished(message: dict[str, Any]) -> bool:
    return message["type"] == "event" and message["event"]["type"] == "job_finished"


async def connect(live: LiveServer, key: str) -> Socket:
    ws = await websockets.connect(f"{live.ws_url}?token={key}")
    welcome = await recv(ws)
    assert welcome["type"] == "welcome", welcome
    return ws


async def wait_for_events(live: LiveServer, job_id: str, at_least: int) -> None:
    api = live.api
    for _ in range(400):
        r = await api.client.get(f"/api/jobs/{job_id}/events", headers=api.alice.headers)
        if r.json()["last_seq"] >= at_least:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("job produced no events")


async def test_subscribe_replays_the_log_then_streams_live_in_order(live: LiveServer) -> None:
    api = live.api
    job_id = await api.create_job(api.alice, script=api.script("slow", delay_s=0.4))
    await wait_for_events(live, job_id, 3)
    ws = await connect(live, api.alice.key)
    try:
        await ws.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        messages = await recv_until(ws, is_finished)
    finally:
        await ws.close()
    kinds = [m["type"] for m in messages]
    ack = kinds.index("subscribed")
    replayed = [m["event"] for m in messages[:ack]]
    streamed = [m["event"] for m in messages[ack + 1 :]]
    assert len(replayed) >= 3, "the events before subscribing come from the log"
    assert streamed, "later events arrive live"
    assert messages[ack]["last_seq"] == replayed[-1]["seq"]
    seqs = [e["seq"] for e in replayed + streamed]
    assert seqs == list(range(1, len(seqs) + 1)), "every event once, in sequence order"
    assert all(e["job_id"] == job_id for e in replayed + streamed)
    log = (await api.client.get(f"/api/jobs/{job_id}/events", headers=api.alice.headers)).json()[
        "events"
    ]
    assert [e["seq"] for e in log] == seqs
    assert streamed[-1]["data"]["status"] == "succeeded"


async def test_the_final_event_carries_the_verdict(live: LiveServer) -> None:
    api = live.api
    script = api.script("slow-buggy", delay_s=0.3, code=BUGGY_CODE)
    job_id = await api.create_job(api.alice, script=script,
                                  options={"max_fix_rounds": 0, "review": False})
    ws = await connect(live, api.alice.key)
    try:
        await ws.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        finished = (await recv_until(ws, is_finished))[-1]["event"]
    finally:
        await ws.close()
    # The job succeeds, and the last event says plainly that its code fails.
    assert finished["data"]["status"] == "succeeded"
    assert finished["data"]["verdict"] == "failing"
    assert finished["data"]["verdict_detail"]["failing_tests"] == ["tests.test_calc::test_add"]
    body = (await api.client.get(f"/api/jobs/{job_id}", headers=api.alice.headers)).json()
    assert body["verdict_detail"] == finished["data"]["verdict_detail"]


async def test_subscribe_since_replays_only_later_events(live: LiveServer) -> None:
    api = live.api
    job_id = await api.finished_job(api.alice)
    ws = await connect(live, api.alice.key)
    try:
        await ws.send(json.dumps({"action": "subscribe", "job_id": job_id, "since": 4}))
        messages = await recv_until(ws, lambda m: m["type"] == "subscribed")
    finally:
        await ws.close()
    seqs = [m["event"]["seq"] for m in messages if m["type"] == "event"]
    assert seqs[0] == 5
    assert messages[-1]["status"] == "succeeded" and messages[-1]["last_seq"] == seqs[-1]


async def test_a_client_never_receives_another_users_events(live: LiveServer) -> None:
    api = live.api
    alices = await api.create_job(api.alice, script=api.script("slow", delay_s=0.3))
    bobs = await api.create_job(api.bob, script=api.script("slow", delay_s=0.3))
    ws = await connect(live, api.bob.key)
    try:
        await ws.send(json.dumps({"action": "subscribe", "job_id": alices}))
        refused = await recv_until(ws, lambda m: m["type"] == "error")
        assert refused[-1]["error"] == "not_found"
        assert all(m["type"] != "event" for m in refused)
        # …the same answer as for a job that does not exist.
        await ws.send(json.dumps({"action": "subscribe", "job_id": "no-such-job"}))
        missing = await recv_until(ws, lambda m: m["type"] == "error")
        assert missing[-1]["error"] == "not_found"

        await ws.send(json.dumps({"action": "subscribe", "job_id": bobs}))
        messages = await recv_until(ws, is_finished)
    finally:
        await ws.close()
    events = [m["event"] for m in messages if m["type"] == "event"]
    assert events and {e["job_id"] for e in events} == {bobs}
    await api.wait(alices, api.alice)


async def test_admins_may_watch_any_job(live: LiveServer) -> None:
    api = live.api
    job_id = await api.finished_job(api.alice)
    ws = await connect(live, api.admin.key)
    try:
        await ws.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        messages = await recv_until(ws, lambda m: m["type"] == "subscribed")
    finally:
        await ws.close()
    assert messages[-1]["job_id"] == job_id


async def test_auth_by_first_message_with_a_jwt(live: LiveServer) -> None:
    api = live.api
    token = (await api.client.post("/api/validate-key", json={"api_key": api.alice.key})).json()[
        "access_token"
    ]
    async with websockets.connect(live.ws_url) as ws:
        await ws.send(json.dumps({"action": "auth", "token": token}))
        welcome = await recv(ws)
        assert welcome["type"] == "welcome" and welcome["user"]["name"] == "alice"
        await ws.send(json.dumps({"action": "ping"}))
        assert (await recv_until(ws, lambda m: m["type"] == "pong"))[-1]["type"] == "pong"


@pytest.mark.parametrize(
    ("url_suffix", "first"),
    [
        ("?token=atl_00000000_wrong", None),
        ("?token=not-a-jwt", None),
        ("", {"action": "subscribe", "job_id": "x"}),
        ("", {"action": "auth"}),
        ("", "not json"),
    ],
)
async def test_bad_credentials_close_the_socket(
    live: LiveServer, url_suffix: str, first: object
) -> None:
    async with websockets.connect(live.ws_url + url_suffix) as ws:
        if first is not None:
            await ws.send(first if isinstance(first, str) else json.dumps(first))
        message = await recv(ws)
        assert message == {"type": "error", "error": "unauthorized", "detail": message["detail"]}
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_heartbeats_bad_messages_and_unsubscribe(live: LiveServer) -> None:
    api = live.api
    job_id = await api.create_job(api.alice, script=api.script("slow", delay_s=0.5))
    ws = await connect(live, api.alice.key)
    try:
        beat = await recv(ws, timeout=5)
        assert beat["type"] == "heartbeat"
        for bad in (
            "nonsense",
            json.dumps({"action": "dance"}),
            json.dumps({"action": "subscribe"}),
            json.dumps({"action": "subscribe", "job_id": job_id, "since": -1}),
        ):
            await ws.send(bad)
            error = await recv_until(ws, lambda m: m["type"] == "error")
            assert error[-1]["error"] == "bad_request"
        await ws.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        await recv_until(ws, lambda m: m["type"] == "subscribed")
        await ws.send(json.dumps({"action": "unsubscribe", "job_id": job_id}))
        await recv_until(ws, lambda m: m["type"] == "unsubscribed")
        # Nothing but heartbeats for this job from now on.
        await api.wait(job_id, api.alice)
        quiet: list[dict[str, Any]] = []
        until = asyncio.get_running_loop().time() + 1.5
        while (left := until - asyncio.get_running_loop().time()) > 0:
            try:
                quiet.append(await recv(ws, timeout=left))
            except TimeoutError:
                break
        assert quiet, "heartbeats keep coming"
        assert {m["type"] for m in quiet} == {"heartbeat"}
    finally:
        await ws.close()
