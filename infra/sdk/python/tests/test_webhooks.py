"""pytake.webhooks against PyTake's signing scheme (internal/delivery): its test
vectors, the Standard Webhooks specification's, tolerance and rotation."""

from __future__ import annotations

import hashlib
import hmac
from typing import Dict

import pytest

from pytake import webhooks
from pytake.webhooks import WebhookVerificationError

# internal/delivery: TestHeadersPyTakeVector / ExampleHeaders.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = (
    '{"id":"evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D","event":"message.received","timestamp":"2025-10-03T16:30:00Z",'
    '"organization_id":"org_01K6NYQ2M4P6R8T0V2X4Z6B8D0","data":{"message":{"id":"msg_01K6NZ3F8Q","type":"text",'
    '"content":{"text":"Olá <3"}}}}'
).encode()
HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "PyTake-Webhooks/1",
    "Webhook-Id": "evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D",
    "Webhook-Timestamp": "1759509000",
    "Webhook-Signature": "v1,YmtOi3/QinsrQ+anQrjjIc3FPW6elWoZZfAXSR0i0No=",
    "X-Pytake-Signature": "sha256=3fc5bf983150beca3ba7de79ae90446a2c0a8553f07cba5e7024807deee35c55",
}
NOW = 1759509000.0

# The Standard Webhooks specification's own vector (TestHeadersStandardWebhooksVector).
SPEC_BODY = b'{"test": 2432232314}'
SPEC_HEADERS = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}

OTHER = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes


def test_pytake_vector_standard() -> None:
    event = webhooks.construct_event(BODY, HEADERS, SECRET, now=NOW)
    assert (event.id, event.event, event.organization_id) == (
        "evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D",
        "message.received",
        "org_01K6NYQ2M4P6R8T0V2X4Z6B8D0",
    )
    assert event.data["message"]["content"]["text"] == "Olá <3"


def test_pytake_vector_x_pytake_signature() -> None:
    event = webhooks.construct_event(BODY.decode(), {"x-pytake-signature": HEADERS["X-Pytake-Signature"]}, SECRET, scheme="pytake")
    assert event.id == "evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D"


def test_spec_vector() -> None:
    webhooks.verify(SPEC_BODY, SPEC_HEADERS, SECRET, now=1614265330 + 240)


def test_sign_reproduces_the_vectors() -> None:
    h = webhooks.sign(BODY, SECRET, msg_id="evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D", timestamp=1759509000)
    assert h["webhook-signature"] == HEADERS["Webhook-Signature"]
    assert h["X-PyTake-Signature"] == HEADERS["X-Pytake-Signature"]
    assert webhooks.sign(SPEC_BODY, SECRET, msg_id=SPEC_HEADERS["webhook-id"], timestamp=1614265330)["webhook-signature"] == SPEC_HEADERS["webhook-signature"]


def test_agrees_with_the_guides_snippet() -> None:
    """The guide's validate_webhook accepts what sign() produces."""
    expected = hmac.new(SECRET.encode(), BODY.decode().encode(), hashlib.sha256).hexdigest()
    assert HEADERS["X-Pytake-Signature"].replace("sha256=", "") == expected


def with_(name: str, value: str | None) -> Dict[str, str]:
    h = dict(HEADERS)
    if value is None:
        del h[name]
    else:
        h[name] = value
    return h


@pytest.mark.parametrize(
    "name,secret,headers,body,now,tolerance,message",
    [
        ("5 min late", SECRET, HEADERS, BODY, NOW + 300, 300, None),
        ("5 min early", SECRET, HEADERS, BODY, NOW - 300, 300, None),
        ("too old", SECRET, HEADERS, BODY, NOW + 301, 300, "old"),
        ("too new", SECRET, HEADERS, BODY, NOW - 301, 300, "future"),
        ("custom tolerance", SECRET, HEADERS, BODY, NOW + 3600, 7200, None),
        ("tampered body", SECRET, HEADERS, BODY.replace(b"<3", b"<4"), NOW, 300, "no signature matches"),
        ("re-serialised body", SECRET, HEADERS, BODY.replace(b'","', b'", "'), NOW, 300, "no signature matches"),
        ("wrong secret", OTHER, HEADERS, BODY, NOW, 300, "no signature matches"),
        ("secret without prefix: a chosen secret, not this one", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", HEADERS, BODY, NOW, 300, "no signature matches"),
        ("chosen secret with a space", "abc 123", HEADERS, BODY, NOW, 300, "chosen secret"),
        ("chosen secret too short", "abc12", HEADERS, BODY, NOW, 300, "chosen secret"),
        ("secret not base64", "whsec_@@@", HEADERS, BODY, NOW, 300, "base64"),
        ("tampered id", SECRET, with_("Webhook-Id", "evt_2"), BODY, NOW, 300, "no signature matches"),
        ("tampered timestamp", SECRET, with_("Webhook-Timestamp", "1759509001"), BODY, NOW, 300, "no signature matches"),
        ("no id", SECRET, with_("Webhook-Id", None), BODY, NOW, 300, "missing header webhook-id"),
        ("no timestamp", SECRET, with_("Webhook-Timestamp", None), BODY, NOW, 300, "missing header webhook-timestamp"),
        ("no signature", SECRET, with_("Webhook-Signature", None), BODY, NOW, 300, "missing header webhook-signature"),
        ("signed timestamp", SECRET, with_("Webhook-Timestamp", "+1759509000"), BODY, NOW, 300, "unix seconds"),
        ("RFC 3339 timestamp", SECRET, with_("Webhook-Timestamp", "2025-10-03T16:30:00Z"), BODY, NOW, 300, "unix seconds"),
        ("milliseconds", SECRET, with_("Webhook-Timestamp", "1759509000000"), BODY, NOW, 300, "future"),
        ("second entry matches", SECRET, with_("Webhook-Signature", "v1,AAAA " + HEADERS["Webhook-Signature"]), BODY, NOW, 300, None),
        ("bad base64 then good", SECRET, with_("Webhook-Signature", "v1,@@@ " + HEADERS["Webhook-Signature"]), BODY, NOW, 300, None),
        ("v2 entry ignored", SECRET, with_("Webhook-Signature", HEADERS["Webhook-Signature"].replace("v1,", "v2,")), BODY, NOW, 300, "no signature matches"),
        ("truncated", SECRET, with_("Webhook-Signature", HEADERS["Webhook-Signature"][:20]), BODY, NOW, 300, "no signature matches"),
    ],
)
def test_verify(name: str, secret: str, headers: Dict[str, str], body: bytes, now: float, tolerance: float, message: str | None) -> None:
    if message is None:
        webhooks.verify(body, headers, secret, now=now, tolerance=tolerance)
        return
    with pytest.raises(WebhookVerificationError, match=message) as e:
        webhooks.verify(body, headers, secret, now=now, tolerance=tolerance)
    assert SECRET not in str(e.value)


def test_chosen_secret_keys_with_its_own_bytes() -> None:
    # The integrations guide's "abc123": PyTake keys the Standard Webhooks
    # signature with the string's bytes (delivery.SigningKey).
    import base64 as b64
    import hashlib
    import hmac as hm

    mac = hm.new(b"abc123", b"evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D.1759509000." + BODY, hashlib.sha256).digest()
    headers = with_("Webhook-Signature", "v1," + b64.b64encode(mac).decode())
    webhooks.verify(BODY, headers, "abc123", now=NOW)
    webhooks.verify(BODY, headers, [SECRET, "abc123"], now=NOW)
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        webhooks.verify(BODY, headers, "abc124", now=NOW)


def test_rotation_accepts_any_active_secret() -> None:
    # During a rotation PyTake signs with both secrets; a receiver that knows
    # either (or both) accepts.
    new_entry = webhooks.sign(BODY, OTHER, msg_id="evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D", timestamp=1759509000)["webhook-signature"]
    both = with_("Webhook-Signature", new_entry + " " + HEADERS["Webhook-Signature"])
    for secrets in ([OTHER], [SECRET], [OTHER, SECRET], [SECRET, OTHER]):
        webhooks.verify(BODY, both, secrets, now=NOW)
    # A receiver with both secrets accepts a delivery signed with either.
    webhooks.verify(BODY, HEADERS, [OTHER, SECRET], now=NOW)
    webhooks.verify(BODY, HEADERS, [OTHER, SECRET], scheme="pytake")
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, HEADERS, [OTHER], now=NOW)
    with pytest.raises(WebhookVerificationError, match="no webhook secret"):
        webhooks.verify(BODY, HEADERS, [], now=NOW)


@pytest.mark.parametrize(
    "header,message",
    [
        (None, "missing header X-PyTake-Signature"),
        ("3fc5bf983150beca3ba7de79ae90446a2c0a8553f07cba5e7024807deee35c55", "sha256="),
        (HEADERS["X-Pytake-Signature"].upper().replace("SHA256=", "sha256="), "no signature matches"),
    ],
)
def test_x_pytake_signature_failures(header: str | None, message: str) -> None:
    h = {} if header is None else {"X-PyTake-Signature": header}
    with pytest.raises(WebhookVerificationError, match=message):
        webhooks.verify(BODY, h, SECRET, scheme="pytake")


def test_construct_event_refuses_what_is_not_an_event() -> None:
    for body in (b"[1]", b"not json", b'{"id":"evt_1"}'):
        h = webhooks.sign(body, SECRET, msg_id="evt_1", timestamp=1759509000)
        with pytest.raises(WebhookVerificationError):
            webhooks.construct_event(body, h, SECRET, now=NOW)


def test_headers_objects_of_frameworks() -> None:
    """Lower-case keys (ASGI, httpx) and case-insensitive mappings both work."""
    import httpx

    webhooks.verify(BODY, httpx.Headers(HEADERS), SECRET, now=NOW)
    webhooks.verify(BODY, {k.lower(): v for k, v in HEADERS.items()}, SECRET, now=NOW)
    webhooks.verify(BODY, {k.upper(): v for k, v in HEADERS.items()}, SECRET, now=NOW)


def test_a_parsed_body_is_refused_clearly() -> None:
    # request.json instead of the raw bytes: the signature covers the bytes sent.
    import json

    with pytest.raises(TypeError, match="raw request body"):
        webhooks.construct_event(json.loads(BODY), HEADERS, SECRET, now=NOW)
