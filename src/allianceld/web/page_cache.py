"""Pages kept until the next write: an anonymous ``GET`` of a page (a resource, a listing, a picture's
data, the home page) is answered from memory when the same request was answered since the store's
last write.

A page is built in this process, beside the writes it serves, so under writes its build waits for
them (the NATO page: 50 ms alone, 0.8 s beside two writers posting without pause). The answer
depends only on the store, the request and the day, so it is kept under the store's version
(:attr:`KnowledgeBase.version`, bumped by every write, and by another service's write noticed at
the start of a request), the day, the URL, the host and the ``Accept`` header; a write makes every
kept page old. A request with credentials is never answered from, nor kept in, the cache; requests
for a page being built wait for it. ``ALLIANCELD_PAGE_CACHE_BYTES`` bounds the memory (0: no cache).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask, Response, g, request

from allianceld.store import KnowledgeBase

#: the blueprints whose pages depend on nothing but the store, the request and the day
CACHED_BLUEPRINTS = frozenset({"resources", "ui", "pictures", "indicators", "metadata"})
# per response, not per page: the request's own id, and what every response gets anew
_PER_RESPONSE = frozenset({"x-request-id", "content-length", "date"})
Key = tuple[Any, ...]
_CACHES: weakref.WeakSet[PageCache] = weakref.WeakSet()


@dataclass(frozen=True)
class _Page:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Flight:
    """A page being built: the requests for it wait for its answer instead of building it too."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.page: _Page | None = None


class PageCache:
    """Kept pages of one store version, least recently used dropped first past ``max_bytes``; a
    page is built once however many requests for it arrive while it is built."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._pages: OrderedDict[Key, _Page] = OrderedDict()
        self._flights: dict[tuple[int, Key], _Flight] = {}
        self._bytes = 0
        self._version: int | None = None
        self._lock = threading.Lock()
        _CACHES.add(self)

    def clear(self) -> None:
        """Drop every kept page."""
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def begin(self, version: int, key: Key) -> tuple[_Page | None, _Flight | None, bool]:
        """For a request of ``key`` at store version ``version``: the kept page; or the flight of
        the request building it (to wait for); or a new flight, True, when this request builds it
        (then :meth:`finish` it)."""
        with self._lock:
            page = self._pages.get(key) if version == self._version else None
            if page is not None:
                self._pages.move_to_end(key)
                self.hits += 1
                return page, None, False
            flight = self._flights.get((version, key))
            if flight is not None:
                self.hits += 1
                return None, flight, False
            self.misses += 1
            flight = self._flights[(version, key)] = _Flight()
            return None, flight, True

    def finish(self, version: int, key: Key, flight: _Flight, page: _Page | None, *, keep: bool) -> None:
        """End the flight with ``page`` (None: no page to share), kept when ``keep``."""
        with self._lock:
            self._flights.pop((version, key), None)
            if keep and page is not None:
                self._put(version, key, page)
        flight.page = page
        flight.done.set()

    def _put(self, version: int, key: Key, page: _Page) -> None:
        size = len(page.body) + 64
        if size > self.max_bytes // 8:  # a few very large answers would push out everything else
            return
        if self._version is None or version > self._version:
            self._pages.clear()
            self._bytes = 0
            self._version = version
        elif version < self._version:
            return
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body) + 64
        self._pages[key] = page
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, dropped = self._pages.popitem(last=False)
            self._bytes -= len(dropped.body) + 64


# how long a request waits for another to build the page it asks for before building it itself
WAIT_S = 30.0


def init_app(app: Flask, kb: KnowledgeBase, max_bytes: int) -> None:
    """Answer repeated anonymous page requests from a :class:`PageCache` of ``max_bytes``
    (registered after every other ``before_request``: the store's version is read last)."""
    if max_bytes <= 0:
        return
    cache = PageCache(max_bytes)
    app.extensions["allianceld.page_cache"] = cache

    @app.before_request
    def _answer_kept() -> Response | None:
        if not _cacheable(request):
            return None
        key = (date.today().isoformat(), request.host_url, request.full_path, request.headers.get("Accept", ""))
        version = kb.version
        page, flight, builds = cache.begin(version, key)
        if page is None and flight is not None and not builds and flight.done.wait(WAIT_S):
            page = flight.page
        if page is not None:
            return Response(page.body, status=page.status, headers=page.headers)
        if builds:
            g.page_cache = (version, key, flight)
        return None

    @app.after_request
    def _keep(resp: Response) -> Response:
        pending = g.pop("page_cache", None)
        if pending is None:
            return resp
        version, key, flight = pending
        if resp.status_code != 200 or resp.direct_passthrough or resp.is_streamed or "Set-Cookie" in resp.headers:
            cache.finish(version, key, flight, None, keep=False)
            return resp
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() not in _PER_RESPONSE]
        page = _Page(resp.status_code, headers, resp.get_data())
        # kept under the version read before it was built: a write since has made it old already
        cache.finish(version, key, flight, page, keep="no-store" not in resp.headers.get("Cache-Control", ""))
        return resp

    @app.teardown_request
    def _end_flight(_exc: BaseException | None) -> None:
        pending = g.pop("page_cache", None)  # the request failed before its answer was made
        if pending is not None:
            version, key, flight = pending
            cache.finish(version, key, flight, None, keep=False)


def forget_all() -> None:
    """Drop the kept pages of every app of this process: for a change the version does not see,
    such as a setting changed while the app runs (the tests change some)."""
    for cache in list(_CACHES):
        cache.clear()


def _cacheable(req: Any) -> bool:
    return (
        req.method == "GET"
        and req.blueprint in CACHED_BLUEPRINTS
        and "Authorization" not in req.headers
        and "Cookie" not in req.headers
    )


__all__ = ["CACHED_BLUEPRINTS", "PageCache", "forget_all", "init_app"]
