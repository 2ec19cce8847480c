"""Shared fixtures: a client whose HTTP goes to a handler instead of a network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import httpx
import pytest

import pytake

SDK = Path(__file__).resolve().parent.parent
OPENAPI = SDK.parent.parent.parent / "internal" / "api" / "openapi.json"

Handler = Callable[[httpx.Request], httpx.Response]


def openapi() -> Dict[str, Any]:
    doc: Dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return doc


class Recorder:
    """Answers requests with queued responses (or a handler) and keeps them."""

    def __init__(self) -> None:
        self.requests: List[httpx.Request] = []
        self.queue: List[Any] = []
        self.handler: Handler | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.queue:
            item = self.queue.pop(0)
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, httpx.Response)
            return item
        assert self.handler is not None, f"unexpected request {request.method} {request.url}"
        return self.handler(request)

    def json(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def client(rec: Recorder) -> Iterator[pytake.PyTake]:
    c = pytake.PyTake(
        api_key="pytake_live_test",
        base_url="https://api.example.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(rec)),
    )
    c._sleep = lambda s: None
    yield c
    c.close()


@pytest.fixture
def aclient(rec: Recorder) -> pytake.AsyncPyTake:
    async def nosleep(s: float) -> None:
        return None

    c = pytake.AsyncPyTake(
        api_key="pytake_live_test",
        base_url="https://api.example.test/v1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(rec)),
    )
    c._sleep = nosleep
    return c


def error(status: int, code: str, message: str = "m", details: Any = None, request_id: str = "req_1", **headers: str) -> httpx.Response:
    h = {"X-Request-Id": request_id}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return httpx.Response(
        status,
        json={"error": {"code": code, "message": message, "details": details or [], "request_id": request_id}},
        headers=h,
    )


CONTACT = {"id": "ct_1", "name": "Maria", "whatsapp_id": "+5511999999999", "tags": ["vip"], "attributes": {}, "created_at": "2025-10-03T16:30:00Z"}
SEND_RESULT = {"id": "msg_1", "status": "queued", "to": "5511999999999", "type": "text", "contact_id": "ct_1", "conversation_id": "cv_1", "created_at": "2025-10-03T16:30:00Z"}
