"""PyTake's Python SDK.

::

    from pytake import PyTake

    client = PyTake(api_key="pytake_live_abc123")   # or $PYTAKE_API_KEY
    message = client.messages.send(to="+5511999999999", text="Olá!")
    for contact in client.contacts.list(tag="vip"):
        print(contact.name)
"""

from . import types, webhooks
from ._async.client import AsyncPyTake
from ._core import DEFAULT_BASE_URL, NOT_GIVEN, AsyncPager, MediaFile, NotGiven, Page, Pager
from ._sync.client import PyTake
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PyTakeError,
    RateLimitError,
    ValidationError,
)

__all__ = [
    "PyTake",
    "AsyncPyTake",
    "DEFAULT_BASE_URL",
    "NOT_GIVEN",
    "NotGiven",
    "Page",
    "Pager",
    "AsyncPager",
    "MediaFile",
    "types",
    "webhooks",
    "__version__",
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
