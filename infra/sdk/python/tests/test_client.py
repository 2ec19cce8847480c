"""The client's behaviour: configuration, the guide's calls, errors, retries,
timeouts and pagination, over a mocked transport."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any, Callable, List

import httpx
import pytest

import pytake
from pytake import types

from .conftest import CONTACT, SEND_RESULT, Recorder, error


def test_guide_snippet(client: pytake.PyTake, rec: Recorder) -> None:
    rec.queue += [
        httpx.Response(202, json=SEND_RESULT),
        httpx.Response(200, json={"data": [CONTACT], "next_cursor": ""}),
        httpx.Response(201, json={"id": "cb_1", "name": "Atendimento", "welcome_message": "Olá! Como posso ajudar?",
                                  "active": True, "rules": [], "created_at": "t", "updated_at": "t"}),
    ]
    message = client.messages.send(to="+5511999999999", text="Olá!")
    contacts = client.contacts.list(limit=100)
    bot = client.chatbots.create(name="Atendimento", welcome_message="Olá! Como posso ajudar?")

    assert isinstance(message, types.SendResult) and message.id == "msg_1" and message.status == "queued"
    assert [c.name for c in contacts] == ["Maria"]
    assert isinstance(bot, types.Chatbot) and bot.welcome_message == "Olá! Como posso ajudar?"
    send, lst, create = rec.requests
    assert (send.method, send.url.path) == ("POST", "/v1/messages")
    assert json.loads(send.content) == {"to": "+5511999999999", "text": "Olá!"}
    assert send.headers["content-type"] == "application/json"
    assert send.headers["idempotency-key"].startswith("pytake-python-")
    assert send.headers["user-agent"] == f"pytake-python/{pytake.__version__}"
    assert (lst.method, str(lst.url)) == ("GET", "https://api.example.test/v1/contacts?limit=100")
    assert json.loads(create.content) == {"name": "Atendimento", "welcome_message": "Olá! Como posso ajudar?"}


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTAKE_API_KEY", "pytake_live_env")
    monkeypatch.setenv("PYTAKE_API_URL", "http://127.0.0.1:3000/v1/")
    c = pytake.PyTake()
    assert c.base_url == "http://127.0.0.1:3000/v1"
    assert c._config.api_key == "pytake_live_env"
    monkeypatch.delenv("PYTAKE_API_URL")
    assert pytake.PyTake().base_url == "https://api.pytake.com/v1"
    assert pytake.PyTake(api_key="pytake_live_arg")._config.api_key == "pytake_live_arg"
    monkeypatch.delenv("PYTAKE_API_KEY")
    with pytest.raises(pytake.PyTakeError, match="PYTAKE_API_KEY"):
        pytake.PyTake()
    with pytest.raises(pytake.PyTakeError, match="http"):
        pytake.PyTake(api_key="k", base_url="api.pytake.com")


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (400, "invalid_json", pytake.BadRequestError),
        (401, "unauthorized", pytake.AuthenticationError),
        (404, "not_found", pytake.NotFoundError),
        (409, "contact_exists", pytake.ConflictError),
        (415, "unsupported_media_type", pytake.BadRequestError),
        (422, "validation_failed", pytake.ValidationError),
        (429, "rate_limited", pytake.RateLimitError),
        (500, "internal_error", pytake.InternalServerError),
        (503, "service_unavailable", pytake.InternalServerError),
    ],
)
def test_errors_carry_the_error_model(client: pytake.PyTake, rec: Recorder, status: int, code: str, cls: type) -> None:
    details = [{"field": "whatsapp_id", "issue": "must be a phone number"}, {"issue": "general"}]
    rec.handler = lambda r: error(status, code, "the contact is invalid", details, "req_42")
    with pytest.raises(cls) as e:
        client.with_options(max_retries=0).contacts.create(whatsapp_id="123")
    err = e.value
    assert isinstance(err, pytake.APIStatusError)
    assert (err.status_code, err.code, err.message, err.request_id) == (status, code, "the contact is invalid", "req_42")
    assert err.details == [pytake.ErrorDetail(field="whatsapp_id", issue="must be a phone number"), pytake.ErrorDetail(issue="general")]
    assert "req_42" in str(err) and code in str(err)


def test_conflict_names_the_existing_contact(client: pytake.PyTake, rec: Recorder) -> None:
    r = error(409, "contact_exists")
    body = json.loads(r.content)
    body["error"]["existing_id"] = "ct_9"
    rec.queue.append(httpx.Response(409, json=body))
    with pytest.raises(pytake.ConflictError) as e:
        client.contacts.create(whatsapp_id="+5511999999999")
    assert e.value.existing_id == "ct_9"
    assert len(rec.requests) == 1  # a POST without an Idempotency-Key is never retried on 409


def test_gateway_errors_and_retry_after(client: pytake.PyTake, rec: Recorder) -> None:
    rec.handler = lambda r: httpx.Response(429, json={"message": "Too Many Requests"}, headers={"Retry-After": "7"})
    with pytest.raises(pytake.RateLimitError) as e:
        client.with_options(max_retries=0).organization.retrieve()
    assert (e.value.code, e.value.message, e.value.retry_after, e.value.request_id) == ("rate_limited", "Too Many Requests", 7.0, None)


def test_retries_reads_on_429_and_5xx_with_backoff(client: pytake.PyTake, rec: Recorder) -> None:
    slept: List[float] = []
    client._sleep = slept.append
    rec.queue += [
        httpx.Response(429, json={"message": "Too Many Requests"}, headers={"Retry-After": "2"}),
        error(503, "service_unavailable"),
        httpx.Response(200, json=CONTACT),
    ]
    assert client.contacts.retrieve("ct_1").id == "ct_1"
    assert len(rec.requests) == 3
    assert slept[0] == 2.0 and 0.75 <= slept[1] <= 1.0  # Retry-After, then 2nd exponential step (1 s, jittered)


def test_retries_give_up_after_max_retries(client: pytake.PyTake, rec: Recorder) -> None:
    rec.handler = lambda r: error(502, "upstream_error")
    with pytest.raises(pytake.InternalServerError):
        client.with_options(max_retries=3).contacts.retrieve("ct_1")
    assert len(rec.requests) == 4


def test_send_retries_with_the_same_idempotency_key(client: pytake.PyTake, rec: Recorder) -> None:
    rec.queue += [
        httpx.ReadTimeout("timed out"),
        error(500, "internal_error"),
        httpx.Response(202, json=SEND_RESULT, headers={"Idempotent-Replayed": "true"}),
    ]
    assert client.messages.send(to="+5511999999999", text="Olá!").id == "msg_1"
    keys = {r.headers["idempotency-key"] for r in rec.requests}
    assert len(rec.requests) == 3 and len(keys) == 1
    rec.queue.append(httpx.Response(202, json=SEND_RESULT))
    client.messages.send(to="+5511999999999", text="Olá!", idempotency_key="order-1001")
    assert rec.requests[-1].headers["idempotency-key"] == "order-1001"
    rec.queue.append(httpx.Response(202, json=SEND_RESULT))
    client.messages.send(to="+5511999999999", text="Olá!")
    assert rec.requests[-1].headers["idempotency-key"] not in keys | {"order-1001"}


def test_scheduled_send_and_cancel(client: pytake.PyTake, rec: Recorder) -> None:
    scheduled = dict(SEND_RESULT, status="scheduled", send_at="2026-12-24T12:00:00Z")
    rec.queue.append(httpx.Response(202, json=scheduled))
    res = client.messages.send(to="+5511999999999", text="Olá!", send_at="2026-12-24T09:00:00-03:00")
    assert res.status == "scheduled"
    assert rec.json()["send_at"] == "2026-12-24T09:00:00-03:00"
    # A datetime with its zone is sent as RFC 3339; a naive one is refused
    # before any request (the server needs the offset).
    rec.queue.append(httpx.Response(202, json=scheduled))
    client.messages.send(to="+5511999999999", text="Olá!", send_at=datetime.datetime(2026, 12, 24, 12, 0, tzinfo=datetime.timezone.utc))
    assert rec.json()["send_at"] == "2026-12-24T12:00:00+00:00"
    n = len(rec.requests)
    with pytest.raises(ValueError, match="time zone"):
        client.messages.send(to="+5511999999999", text="Olá!", send_at=datetime.datetime(2026, 12, 24, 12, 0))
    assert len(rec.requests) == n
    # Without send_at the body has none.
    rec.queue.append(httpx.Response(202, json=SEND_RESULT))
    client.messages.send(to="+5511999999999", text="Olá!")
    assert "send_at" not in rec.json()

    message = {"id": "msg_1", "conversation_id": "cv_1", "contact_id": "ct_1", "direction": "outbound", "type": "text",
               "content": {"body": "Olá!"}, "status": "cancelled", "timestamp": "2026-12-02T12:00:00Z",
               "created_at": "2026-12-02T12:00:00Z", "send_at": "2026-12-24T12:00:00Z", "cancelled_at": "2026-12-02T12:01:00Z"}
    rec.queue.append(httpx.Response(200, json=message))
    got = client.messages.cancel("msg_1")
    assert rec.requests[-1].method == "DELETE"
    assert rec.requests[-1].url.path == "/v1/messages/msg_1"
    assert got.status == "cancelled"
    rec.queue.append(error(409, "message_not_scheduled"))
    with pytest.raises(pytake.ConflictError) as e:
        client.messages.cancel("msg_1")
    assert e.value.code == "message_not_scheduled"


def test_non_idempotent_calls_are_not_retried_once_sent(client: pytake.PyTake, rec: Recorder) -> None:
    rec.queue.append(error(500, "internal_error"))
    with pytest.raises(pytake.InternalServerError):
        client.contacts.create(whatsapp_id="+5511999999999")
    rec.queue.append(httpx.ReadTimeout("timed out"))
    with pytest.raises(pytake.APITimeoutError):
        client.contacts.update("ct_1", name="x")
    assert len(rec.requests) == 2
    # ...but a connection that never opened is retried whatever the call.
    rec.queue += [httpx.ConnectError("refused"), httpx.Response(201, json=CONTACT)]
    assert client.contacts.create(whatsapp_id="+5511999999999").id == "ct_1"
    assert len(rec.requests) == 4


def test_connection_errors(client: pytake.PyTake, rec: Recorder) -> None:
    rec.handler = lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused"))
    with pytest.raises(pytake.APIConnectionError) as e:
        client.meta.health()
    assert not isinstance(e.value, pytake.APITimeoutError)
    assert len(rec.requests) == 3


def test_timeouts_are_configurable(rec: Recorder) -> None:
    seen: List[Any] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r.extensions["timeout"])
        return httpx.Response(200, json={"status": "ok", "time": "t"})

    c = pytake.PyTake(api_key="k", base_url="http://x/v1", timeout=2.5, http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    c.meta.health()
    c.with_options(timeout=httpx.Timeout(9.0, connect=1.0)).meta.health()
    assert seen[0] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    assert seen[1] == {"connect": 1.0, "read": 9.0, "write": 9.0, "pool": 9.0}
    assert pytake.PyTake(api_key="k").timeout == httpx.Timeout(30.0, connect=10.0)


def test_list_follows_cursors(client: pytake.PyTake, rec: Recorder) -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        cursor = r.url.params.get("cursor", "")
        n = {"": 0, "c1": 1, "c2": 2}[cursor]
        nxt = ["c1", "c2", ""][n]
        return httpx.Response(200, json={"data": [dict(CONTACT, id=f"ct_{n}a"), dict(CONTACT, id=f"ct_{n}b")], "next_cursor": nxt})

    rec.handler = handler
    pager = client.contacts.list(tag="vip", limit=2)
    assert len(rec.requests) == 1  # the first page at once
    assert [c.id for c in pager.data] == ["ct_0a", "ct_0b"] and pager.has_more
    assert [c.id for c in pager] == ["ct_0a", "ct_0b", "ct_1a", "ct_1b", "ct_2a", "ct_2b"]
    assert [dict(r.url.params) for r in rec.requests] == [
        {"tag": "vip", "limit": "2"},
        {"tag": "vip", "limit": "2", "cursor": "c1"},
        {"tag": "vip", "limit": "2", "cursor": "c2"},
    ]
    assert [len(p.data) for p in client.contacts.list(limit=2).pages()] == [2, 2, 2]


def test_async_client(aclient: pytake.AsyncPyTake, rec: Recorder) -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        if r.url.path == "/v1/messages":
            return httpx.Response(202, json=SEND_RESULT)
        cursor = r.url.params.get("cursor", "")
        return httpx.Response(200, json={"data": [dict(CONTACT, id="ct_" + (cursor or "0"))], "next_cursor": "" if cursor else "1"})

    rec.handler = handler

    async def run() -> None:
        async with aclient:
            m = await aclient.messages.send(to="+5511999999999", text="Olá!")
            assert m.status == "queued"
            assert [c.id async for c in aclient.contacts.list(limit=1)] == ["ct_0", "ct_1"]
            first = await aclient.contacts.list(limit=1)
            assert [c.id for c in first.data] == ["ct_0"] and first.next_cursor == "1"
            rec.queue += [error(503, "service_unavailable"), httpx.Response(200, json=CONTACT)]
            assert (await aclient.contacts.retrieve("ct_1")).id == "ct_1"
            rec.queue.append(error(404, "not_found"))
            with pytest.raises(pytake.NotFoundError):
                await aclient.contacts.retrieve("ct_x")

    asyncio.run(run())


def test_models_keep_unknown_members(client: pytake.PyTake, rec: Recorder) -> None:
    rec.queue.append(httpx.Response(200, json=dict(CONTACT, loyalty={"tier": "gold"})))
    c = client.contacts.retrieve("ct_1")
    assert c.whatsapp_id == "+5511999999999" and c.email is None
    assert c.to_dict()["loyalty"] == {"tier": "gold"}


def test_null_and_not_given(client: pytake.PyTake, rec: Recorder) -> None:
    rec.queue += [httpx.Response(200, json=CONTACT), httpx.Response(200, json={
        "id": "cb_1", "name": "b", "welcome_message": "", "active": True, "rules": [], "created_at": "t", "updated_at": "t"})]
    client.contacts.update("ct_1", attributes={"plan": None, "tier": "gold"})
    client.chatbots.update("cb_1", fallback=None)
    assert rec.json(0) == {"attributes": {"plan": None, "tier": "gold"}}
    assert rec.json(1) == {"fallback": None}


def test_path_values_are_encoded(client: pytake.PyTake, rec: Recorder) -> None:
    rec.queue.append(httpx.Response(200, json=CONTACT))
    client.contacts.remove_tag("ct_1", "vip/gold ?")
    assert rec.requests[0].url.raw_path == b"/v1/contacts/ct_1/tags/vip%2Fgold%20%3F"
    with pytest.raises(ValueError):
        client.contacts.retrieve("")


def test_a_redirect_is_an_error_not_the_answer(client: pytake.PyTake, rec: Recorder) -> None:
    # An http:// base_url in front of an https-only API, or one without /v1:
    # the 3xx is not the operation's answer (DELETE's 204 reads no body, so
    # the redirect would pass for "deleted").
    rec.queue.append(httpx.Response(301, headers={"Location": "https://api.pytake.com/v1/contacts/ct_1"}))
    with pytest.raises(pytake.APIStatusError, match="redirect.*https://api.pytake.com/v1/contacts/ct_1.*base_url") as e:
        client.contacts.delete("ct_1")
    assert e.value.status_code == 301 and len(rec.requests) == 1


def test_a_string_is_not_a_list(client: pytake.PyTake, rec: Recorder) -> None:
    # list("vip") is ["v", "i", "p"]: the SDK must not add three tags.
    calls: List[Callable[[], Any]] = [
        lambda: client.contacts.add_tags("ct_1", "vip"),
        lambda: client.contacts.create(whatsapp_id="+5511999999999", tags="vip"),
        lambda: client.contacts.update("ct_1", tags="vip"),
        lambda: client.webhooks.create(url="https://example.com/h", events="message.received"),
        lambda: client.webhooks.update("wh_1", events="message.received"),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="list of strings"):
            call()
    assert rec.requests == []
    rec.queue += [httpx.Response(200, json=CONTACT), httpx.Response(201, json=CONTACT)]
    client.contacts.add_tags("ct_1", ("vip", "gold"))
    client.contacts.create(whatsapp_id="+5511999999999", tags=["vip"])
    assert rec.json(0) == {"tags": ["vip", "gold"]} and rec.json(1)["tags"] == ["vip"]
