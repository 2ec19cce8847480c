"""Verify and read the events PyTake delivers to your webhook endpoint.

Every delivery carries two signatures:

* Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature:
  v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed with the
  base64-decoded part of ``whsec_...``; one entry per active secret during a
  rotation). It covers a timestamp, so a captured request cannot be replayed
  after ``tolerance``. This is what :func:`construct_event` checks by default.
* ``X-PyTake-Signature: sha256=<hex HMAC-SHA256 of the body>``, keyed with the
  whole secret string, as the integrations guide's snippet checks it. It
  signs no timestamp (replayable); pass ``scheme="pytake"`` to use it where
  the Standard Webhooks headers do not reach you.

Verify the raw bytes you received, before any JSON parsing::

    from pytake import webhooks

    @app.post("/webhook")
    async def receive(request: Request):
        try:
            event = webhooks.construct_event(
                await request.body(), request.headers, secret=[NEW_SECRET, OLD_SECRET]
            )
        except webhooks.WebhookVerificationError:
            raise HTTPException(401, "Invalid signature")
        if event.event == "message.received":
            ...

Dedupe on ``event.id`` (the same on every retry of a delivery).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Literal, Mapping, Optional, Sequence, Union

from .errors import PyTakeError
from .types import Event

__all__ = [
    "DEFAULT_TOLERANCE",
    "WebhookVerificationError",
    "construct_event",
    "verify",
    "sign",
]

DEFAULT_TOLERANCE = 300.0
"""Seconds a webhook-timestamp may be away from the receiver's clock."""

SECRET_PREFIX = "whsec_"

Secrets = Union[str, Sequence[str]]
Scheme = Literal["standard", "pytake"]


class WebhookVerificationError(PyTakeError):
    """The request is not a genuine, fresh PyTake delivery (the message says
    why; it never quotes a secret). Answer 4xx and ignore the body."""


def _key(secret: str) -> bytes:
    """The HMAC key of a secret: for ``whsec_...``, its base64-decoded part;
    for a secret the integrator chose (such as the guide's ``abc123``), the
    string's own bytes, as PyTake keys it."""
    if not secret.startswith(SECRET_PREFIX):
        if not 6 <= len(secret) <= 256 or any(not "!" <= c <= "~" for c in secret):
            raise WebhookVerificationError(
                f"the webhook secret is neither {SECRET_PREFIX!r} followed by base64 "
                "nor a chosen secret (6 to 256 printable ASCII characters, no spaces)"
            )
        return secret.encode("ascii")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(
            f"the webhook secret is not {SECRET_PREFIX!r} followed by standard base64"
        ) from None
    if not 24 <= len(key) <= 64:
        raise WebhookVerificationError(f"the webhook secret's key is {len(key)} bytes, want 24 to 64")
    return key


def _secrets(secret: Secrets) -> Sequence[str]:
    out = [secret] if isinstance(secret, str) else list(secret)
    if not out or any(not isinstance(s, str) or not s for s in out):
        raise WebhookVerificationError("no webhook secret given")
    return out


def _header(headers: Mapping[str, Any], name: str) -> Optional[str]:
    """A header by case-insensitive name (dicts, Starlette/Flask/Django headers,
    httpx/requests headers all work)."""
    getter = getattr(headers, "get", None)
    if getter is not None:
        for candidate in (name, name.lower(), name.title()):
            v = getter(candidate)
            if v is not None:
                return str(v)
    for k, v in headers.items():
        if isinstance(k, str) and k.lower() == name.lower():
            return str(v)
    return None


def _bytes(payload: Union[bytes, bytearray, memoryview, str]) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"payload must be the raw request body (bytes or str), not {type(payload).__name__}: "
            "the signature covers the bytes sent, which a parsed and re-serialised body does not keep"
        )
    return bytes(payload)


def sign(payload: Union[bytes, str], secret: str, *, msg_id: str, timestamp: int) -> Mapping[str, str]:
    """The signature headers PyTake sends with payload (handy for testing your
    endpoint): webhook-id, webhook-timestamp, webhook-signature and
    X-PyTake-Signature."""
    body = _bytes(payload)
    ts = str(int(timestamp))
    mac = hmac.new(_key(secret), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        "X-PyTake-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def verify(
    payload: Union[bytes, bytearray, memoryview, str],
    headers: Mapping[str, Any],
    secret: Secrets,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    scheme: Scheme = "standard",
    now: Optional[float] = None,
) -> None:
    """Raise :class:`WebhookVerificationError` unless the request is signed by
    one of ``secret`` (a ``whsec_...`` string or one you chose, or several during a rotation).

    ``scheme="standard"`` (the default) checks the Standard Webhooks headers:
    ``webhook-timestamp`` at most ``tolerance`` seconds from ``now`` either
    way, and one ``v1,`` entry of ``webhook-signature`` matching, compared in
    constant time. ``scheme="pytake"`` checks ``X-PyTake-Signature`` (no
    timestamp).
    """
    body = _bytes(payload)
    secrets = _secrets(secret)
    if scheme == "pytake":
        header = _header(headers, "X-PyTake-Signature")
        if not header:
            raise WebhookVerificationError("missing header X-PyTake-Signature")
        if not header.startswith("sha256="):
            raise WebhookVerificationError("X-PyTake-Signature does not start with sha256=")
        got = header[len("sha256=") :].encode()
        for s in secrets:
            want = hmac.new(s.encode(), body, hashlib.sha256).hexdigest().encode()
            if hmac.compare_digest(got, want):
                return
        raise WebhookVerificationError("no signature matches (X-PyTake-Signature)")
    if scheme != "standard":
        raise ValueError(f"scheme must be 'standard' or 'pytake', got {scheme!r}")

    msg_id = _header(headers, "webhook-id")
    ts = _header(headers, "webhook-timestamp")
    sigs = _header(headers, "webhook-signature")
    for name, value in (("webhook-id", msg_id), ("webhook-timestamp", ts), ("webhook-signature", sigs)):
        if not value:
            raise WebhookVerificationError(
                f"missing header {name} (PyTake sends it with every delivery; "
                "scheme='pytake' checks X-PyTake-Signature alone)"
            )
    assert msg_id is not None and ts is not None and sigs is not None
    if not ts.isascii() or not ts.isdigit() or len(ts) > 18:
        raise WebhookVerificationError(f"webhook-timestamp {ts!r} is not unix seconds")
    sent = int(ts)
    current = time.time() if now is None else now
    if current - sent > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp {ts} is {current - sent:.0f}s old (tolerance {tolerance:.0f}s)")
    if sent - current > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp {ts} is {sent - current:.0f}s in the future (tolerance {tolerance:.0f}s)"
        )
    signed = f"{msg_id}.{ts}.".encode() + body
    wants = [hmac.new(_key(s), signed, hashlib.sha256).digest() for s in secrets]
    for entry in sigs.split(" "):
        version, _, sig = entry.partition(",")
        if version != "v1" or not sig:
            continue
        try:
            got_mac = base64.b64decode(sig, validate=True)
        except (binascii.Error, ValueError):
            continue
        for want_mac in wants:
            if hmac.compare_digest(got_mac, want_mac):
                return
    raise WebhookVerificationError("no signature matches (webhook-signature)")


def construct_event(
    payload: Union[bytes, bytearray, memoryview, str],
    headers: Mapping[str, Any],
    secret: Secrets,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    scheme: Scheme = "standard",
    now: Optional[float] = None,
) -> Event:
    """Verify (see :func:`verify`), then parse the event:
    ``{"id","event","timestamp","organization_id","data"}``."""
    verify(payload, headers, secret, tolerance=tolerance, scheme=scheme, now=now)
    try:
        data = json.loads(_bytes(payload))
    except ValueError as e:
        raise WebhookVerificationError(f"the signed body is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("the signed body is not a JSON object")
    missing = [k for k in ("id", "event", "timestamp", "organization_id", "data") if k not in data]
    if missing:
        raise WebhookVerificationError(f"the event lacks {', '.join(missing)}")
    return Event.from_dict(data)
