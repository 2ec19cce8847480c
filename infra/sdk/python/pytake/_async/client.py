"""The async client. pytake/_sync/client.py is generated from this file by
scripts/unasync.py: edit this one."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, Optional, TypeVar, Union

import httpx

from .._core import AsyncSleep, Config, Op, backoff, should_retry_error, should_retry_status
from ..errors import APIConnectionError, APITimeoutError, from_response, retry_after_seconds
from .resources import (
    AsyncAPIKeys,
    AsyncChatbots,
    AsyncContacts,
    AsyncConversations,
    AsyncCampaigns,
    AsyncHooks,
    AsyncIntegrations,
    AsyncMedia,
    AsyncTemplates,
    AsyncMessages,
    AsyncMeta,
    AsyncOrganization,
    AsyncSettings,
    AsyncWebhooks,
)

T = TypeVar("T")


class AsyncPyTake:
    """PyTake's API client.

    ``api_key`` defaults to ``$PYTAKE_API_KEY`` and ``base_url`` to
    ``$PYTAKE_API_URL``, else ``https://api.pytake.com/v1``. Failed calls are
    retried ``max_retries`` times with exponential backoff (honouring
    Retry-After) when that is safe: reads, PUT and DELETE, ``messages.send``
    (it always carries an Idempotency-Key) and any call that never reached
    the server. ``timeout`` is in seconds or an ``httpx.Timeout``.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self._config = Config.resolve(api_key, base_url, timeout, max_retries, default_headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._config.timeout, follow_redirects=False)
        self._sleep: AsyncSleep = asyncio.sleep
        self.meta = AsyncMeta(self)
        self.organization = AsyncOrganization(self)
        self.api_keys = AsyncAPIKeys(self)
        self.messages = AsyncMessages(self)
        self.conversations = AsyncConversations(self)
        self.media = AsyncMedia(self)
        self.templates = AsyncTemplates(self)
        self.contacts = AsyncContacts(self)
        self.chatbots = AsyncChatbots(self)
        self.webhooks = AsyncWebhooks(self)
        self.settings = AsyncSettings(self)
        self.integrations = AsyncIntegrations(self)
        self.hooks = AsyncHooks(self)
        self.campaigns = AsyncCampaigns(self)

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    def with_options(
        self, *, timeout: Union[float, httpx.Timeout, None] = None, max_retries: Optional[int] = None
    ) -> AsyncPyTake:
        """A client with other timeout or retries, sharing this one's connections:
        ``client.with_options(timeout=5).messages.retrieve(id)``."""
        cfg = self._config.replace(timeout, max_retries)
        c = AsyncPyTake(
            cfg.api_key,
            base_url=cfg.base_url,
            timeout=cfg.timeout,
            max_retries=cfg.max_retries,
            default_headers=cfg.default_headers,
            http_client=self._http,
        )
        c._sleep = self._sleep
        return c

    async def close(self) -> None:
        """Close the connections (only those of an HTTP client this client made)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncPyTake:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def _request(self, op: Op[T]) -> T:
        cfg = self._config
        headers = cfg.headers()
        headers.update(op.headers)
        if op.json is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            request = self._http.build_request(
                op.method,
                cfg.url(op.path),
                params=op.params,
                json=op.json,
                content=op.content,
                headers=headers,
                timeout=cfg.timeout,
            )
            try:
                response = await self._http.send(request)
            except httpx.TransportError as e:
                if should_retry_error(op, e, attempt, cfg.max_retries):
                    await self._sleep(backoff(attempt, None))
                    attempt += 1
                    continue
                if isinstance(e, httpx.TimeoutException):
                    raise APITimeoutError(f"{op.method} {op.path} timed out: {e}", request=request) from e
                raise APIConnectionError(f"{op.method} {op.path} failed: {e}", request=request) from e
            if response.status_code >= 300:
                if should_retry_status(op, response.status_code, attempt, cfg.max_retries):
                    await self._sleep(backoff(attempt, retry_after_seconds(response)))
                    attempt += 1
                    continue
                raise from_response(response)
            return op.parse(response)
