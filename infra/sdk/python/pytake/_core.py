"""What the sync and async clients share: configuration, the description of
one API call, the retry policy and pagination."""

from __future__ import annotations

import datetime
import os
import random
import uuid
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Generator,
    Generic,
    Iterator,
    List,
    Mapping,
    Optional,
    TypeVar,
    Union,
)
from urllib.parse import quote

import httpx

from ._version import __version__
from .errors import PyTakeError

if TYPE_CHECKING:
    from ._async.client import AsyncPyTake
    from ._sync.client import PyTake

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.pytake.com/v1"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class NotGiven:
    """The default of optional arguments: the member is left out of the
    request. (``None`` sends JSON null, which PATCH operations read as "remove".)"""

    _instance: Optional["NotGiven"] = None

    def __new__(cls) -> "NotGiven":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def body(**members: Any) -> Dict[str, Any]:
    """A JSON object of the given members, NOT_GIVEN ones left out."""
    return {k: v for k, v in members.items() if not isinstance(v, NotGiven)}


def path(template: str, **params: str) -> str:
    """template with each {name} replaced by its percent-encoded value."""
    out = template
    for k, v in params.items():
        if not isinstance(v, str) or v == "":
            raise ValueError(f"{k} must be a non-empty string, got {v!r}")
        out = out.replace("{" + k + "}", quote(v, safe=""))
    return out


def strings(name: str, value: Any) -> Any:
    """A list-of-strings argument as a JSON array. A lone str is refused: it is
    a Sequence[str] too, and list("vip") would be the tags "v", "i", "p"."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of strings, not a string: {name}=[{value!r}]")
    if value is None or isinstance(value, NotGiven):
        return value
    return list(value)


def rfc3339(name: str, value: Any) -> Any:
    """A time argument as RFC 3339: a str as given, a datetime with its
    offset (a naive datetime is refused: the server needs the offset)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must carry its time zone: {name}=datetime(..., tzinfo=timezone.utc)")
        return value.isoformat()
    return value


def new_idempotency_key() -> str:
    return "pytake-python-" + uuid.uuid4().hex


@dataclass
class Op(Generic[T]):
    """One API call: what to send and how to read the answer."""

    operation_id: str
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Optional[Dict[str, Any]] = None
    json: Optional[Dict[str, Any]] = None
    headers: Dict[str, str] = field(default_factory=dict)
    # content is a raw body (an upload), sent with the Content-Type in headers.
    content: Optional[bytes] = None

    @property
    def idempotent(self) -> bool:
        """Whether sending it twice has the effect of sending it once: GET, PUT,
        DELETE, or a call with an Idempotency-Key."""
        return self.method in IDEMPOTENT_METHODS or "Idempotency-Key" in self.headers

    def with_params(self, **params: Any) -> "Op[T]":
        merged = dict(self.params or {})
        merged.update(params)
        return Op(self.operation_id, self.method, self.path, self.parse, merged, self.json, dict(self.headers), self.content)


@dataclass(frozen=True)
class Config:
    api_key: str
    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    default_headers: Mapping[str, str]

    @staticmethod
    def resolve(
        api_key: Optional[str],
        base_url: Optional[str],
        timeout: Union[float, httpx.Timeout, None],
        max_retries: Optional[int],
        default_headers: Optional[Mapping[str, str]],
    ) -> "Config":
        key = api_key if api_key is not None else os.environ.get("PYTAKE_API_KEY")
        if not key:
            raise PyTakeError(
                "no API key: pass PyTake(api_key='pytake_live_...') or set PYTAKE_API_KEY"
            )
        url = base_url or os.environ.get("PYTAKE_API_URL") or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")):
            raise PyTakeError(f"base_url must be an http(s) URL, got {url!r}")
        if timeout is None:
            t = DEFAULT_TIMEOUT
        elif isinstance(timeout, httpx.Timeout):
            t = timeout
        else:
            t = httpx.Timeout(float(timeout))
        retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        if retries < 0:
            raise PyTakeError("max_retries must be 0 or more")
        return Config(key, url.rstrip("/"), t, retries, dict(default_headers or {}))

    def replace(self, timeout: Union[float, httpx.Timeout, None], max_retries: Optional[int]) -> "Config":
        return Config.resolve(
            self.api_key,
            self.base_url,
            self.timeout if timeout is None else timeout,
            self.max_retries if max_retries is None else max_retries,
            self.default_headers,
        )

    def headers(self) -> Dict[str, str]:
        h = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"pytake-python/{__version__}",
        }
        h.update(self.default_headers)
        return h

    def url(self, p: str) -> str:
        return self.base_url + p


def should_retry_status(op: Op[Any], status: int, attempt: int, max_retries: int) -> bool:
    return attempt < max_retries and status in RETRY_STATUSES and (op.idempotent or status == 429)


def should_retry_error(op: Op[Any], exc: Exception, attempt: int, max_retries: int) -> bool:
    """Connection errors: any call whose request never left (the connection
    was not made), idempotent calls otherwise."""
    if attempt >= max_retries:
        return False
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return True
    return op.idempotent and isinstance(exc, httpx.TransportError)


def backoff(attempt: int, retry_after: Optional[float], rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number attempt+1: the server's
    Retry-After when it gave one (capped), else exponential with jitter."""
    if retry_after is not None and 0 <= retry_after <= MAX_RETRY_AFTER:
        return retry_after
    base = min(MAX_BACKOFF, INITIAL_BACKOFF * (2.0**attempt))
    return base * (1 - 0.25 * rng())


# ---- answers ----


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as e:
        raise PyTakeError(
            f"the API answered {response.status_code} with a body that is not JSON: {response.text[:200]!r}"
        ) from e


def parse_model(from_dict: Callable[[Mapping[str, Any]], T]) -> Callable[[httpx.Response], T]:
    def parse(response: httpx.Response) -> T:
        return from_dict(json_of(response))

    return parse


def parse_none(response: httpx.Response) -> None:
    return None


@dataclass(frozen=True)
class MediaFile:
    """A media file's bytes and content type."""

    content: bytes
    content_type: str


def parse_media(response: httpx.Response) -> MediaFile:
    return MediaFile(response.content, response.headers.get("content-type", "application/octet-stream"))


@dataclass
class Page(Generic[T]):
    """One page of a list: its items and the cursor of the next one (empty at
    the end)."""

    data: List[T]
    next_cursor: str

    @property
    def has_more(self) -> bool:
        return self.next_cursor != ""


def page_parser(item: Callable[[Mapping[str, Any]], T]) -> Callable[[httpx.Response], Page[T]]:
    def parse(response: httpx.Response) -> Page[T]:
        j = json_of(response)
        return Page([item(x) for x in j.get("data") or []], str(j.get("next_cursor") or ""))

    return parse


class Pager(Generic[T]):
    """A list: the first page is fetched at once (``.data``, ``.next_cursor``);
    iterating gives every item, fetching the next pages as needed (``limit`` is
    the page size)::

        for contact in client.contacts.list(tag="vip"):
            ...
    """

    def __init__(self, client: "PyTake", op: Op[Page[T]]) -> None:
        self._client = client
        self._op = op
        self._first = client._request(op)

    @property
    def data(self) -> List[T]:
        """The first page's items."""
        return self._first.data

    @property
    def next_cursor(self) -> str:
        return self._first.next_cursor

    @property
    def has_more(self) -> bool:
        return self._first.has_more

    def pages(self) -> Iterator[Page[T]]:
        page = self._first
        yield page
        seen = set()
        while page.next_cursor and page.next_cursor not in seen:
            seen.add(page.next_cursor)
            page = self._client._request(self._op.with_params(cursor=page.next_cursor))
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data

    def to_list(self) -> List[T]:
        return list(self)

    def __repr__(self) -> str:
        return f"<Pager {self._op.operation_id}: {len(self.data)} items on the first page, has_more={self.has_more}>"


class AsyncPager(Generic[T]):
    """The async list: ``async for item in client.contacts.list()`` gives every
    item, page after page; ``await client.contacts.list()`` gives the first
    :class:`Page`."""

    def __init__(self, client: "AsyncPyTake", op: Op[Page[T]]) -> None:
        self._client = client
        self._op = op

    async def pages(self) -> AsyncIterator[Page[T]]:
        page = await self._client._request(self._op)
        yield page
        seen = set()
        while page.next_cursor and page.next_cursor not in seen:
            seen.add(page.next_cursor)
            page = await self._client._request(self._op.with_params(cursor=page.next_cursor))
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self._client._request(self._op).__await__()

    async def to_list(self) -> List[T]:
        return [x async for x in self]


Sleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]
