"""Exceptions the SDK raises.

Every error the API answers becomes an :class:`APIStatusError` subclass chosen
by its HTTP status, carrying PyTake's error model::

    try:
        client.contacts.create(whatsapp_id="+5511999999999")
    except pytake.ConflictError as e:
        contact = client.contacts.retrieve(e.existing_id)
    except pytake.ValidationError as e:
        for d in e.details:
            print(d.field, d.issue)

Network failures are :class:`APIConnectionError` (:class:`APITimeoutError` for a
timeout). All of them derive from :class:`PyTakeError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import httpx

__all__ = [
    "PyTakeError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "RateLimitError",
    "InternalServerError",
    "ErrorDetail",
]


class PyTakeError(Exception):
    """Base of every exception this SDK raises."""


class APIConnectionError(PyTakeError):
    """The API could not be reached (DNS, refused connection, reset, TLS)."""

    def __init__(self, message: str, *, request: Optional[httpx.Request] = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (see the client's ``timeout``)."""


@dataclass(frozen=True)
class ErrorDetail:
    """One problem with one field: ``field`` is a path into the request
    (``template.components[0].parameters[1].text``, ``tags[2]``, ``limit``);
    None when the problem is not about one field."""

    issue: str
    field: Optional[str] = None


class APIStatusError(PyTakeError):
    """The API answered with an error status (4xx or 5xx), or a redirect
    (3xx: the API never redirects; see ``base_url``)."""

    status_code: int
    code: str
    message: str
    details: List[ErrorDetail]
    request_id: Optional[str]
    body: Any
    response: httpx.Response

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        code: str,
        details: List[ErrorDetail],
        request_id: Optional[str],
        body: Any,
    ) -> None:
        text = f"{response.status_code} {code}: {message}"
        if request_id:
            text += f" (request_id {request_id})"
        super().__init__(text)
        self.status_code = response.status_code
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id
        self.body = body
        self.response = response

    @property
    def error(self) -> Dict[str, Any]:
        """The ``error`` object of the body (other members than the common
        ones included, such as ``existing_id``); empty for API Gateway's own
        errors."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return dict(self.body["error"])
        return {}


class BadRequestError(APIStatusError):
    """400 (unreadable request), 405, 413 (body too large) or 415."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, malformed, unknown (``unauthorized``) or revoked
    (``api_key_revoked``)."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404: no such resource in the key's organisation."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state (``contact_exists``,
    ``idempotency_key_reused``, ``active_chatbot_exists``, ...)."""

    @property
    def existing_id(self) -> Optional[str]:
        """The id of the resource that already exists, when the API names it."""
        v = self.error.get("existing_id")
        return v if isinstance(v, str) else None


class ValidationError(APIStatusError):
    """422: the request is well-formed but invalid; ``details`` names every
    field."""


class RateLimitError(APIStatusError):
    """429: throttled. ``retry_after`` is the wait the API asked for, in
    seconds, when it said one."""

    def __init__(self, *args: Any, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: PyTake (or Meta behind it, 502) failed; safe to retry reads."""


_BY_STATUS: Dict[int, type] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: BadRequestError,
    409: ConflictError,
    413: BadRequestError,
    415: BadRequestError,
    422: ValidationError,
    429: RateLimitError,
}


def retry_after_seconds(response: httpx.Response) -> Optional[float]:
    """The Retry-After header in seconds (delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime
    from datetime import datetime, timezone

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def from_response(response: httpx.Response) -> APIStatusError:
    """The exception for an error response (its body already read)."""
    body: Any
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = response.text[:1000]
    request_id = response.headers.get("x-request-id")
    code = ""
    message = ""
    details: List[ErrorDetail] = []
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        code = str(err.get("code") or "")
        message = str(err.get("message") or "")
        request_id = str(err.get("request_id") or "") or request_id
        for d in err.get("details") or []:
            if isinstance(d, dict):
                f = d.get("field")
                details.append(ErrorDetail(issue=str(d.get("issue", "")), field=str(f) if f else None))
    elif isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]  # API Gateway's own {"message"}
    elif isinstance(body, str):
        message = body
    status = response.status_code
    if not code:
        code = {429: "rate_limited", 413: "payload_too_large"}.get(status, "internal_error" if status >= 500 else "http_error")
    if 300 <= status < 400:
        # The API never redirects: an http:// URL in front of https, or a
        # base_url without /v1. The SDK does not follow (it would resend the
        # key and the body elsewhere).
        code = code if code != "http_error" else "redirect"
        message = (
            f"the API answered a redirect to {response.headers.get('location', '?')!s}: "
            "check base_url (https, ending in /v1)"
        )
    if not message:
        message = response.reason_phrase or f"HTTP {status}"
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    kwargs: Dict[str, Any] = dict(response=response, code=code, details=details, request_id=request_id, body=body)
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after_seconds(response), **kwargs)
    err_obj: APIStatusError = cls(message, **kwargs)
    return err_obj
