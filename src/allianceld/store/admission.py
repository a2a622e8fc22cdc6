"""Admission of heavy work by client: how much of it one client, and everyone, may have under way.

One :class:`Admission` guards one kind of work (validating a large body, running a query). A
client (its remote address) may have ``per_client`` of it running at once, and ``queue`` more
waiting for their turn; all clients together ``total`` running (None: no global bound). Work over
a client's share is refused at once with :class:`~allianceld.errors.TooManyRequests` (429), work
over the global bound with :class:`~allianceld.errors.ServerBusy` (503), both naming the setting
and carrying ``retry_after_s``. Nothing waits unless ``queue`` allows it, and then only until the
caller's deadline, so a client's heavy work never holds more than its share of the server's threads.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator

from allianceld.errors import ServerBusy, TooManyRequests


class Admission:
    """Per-client and global bounds on one kind of work (see the module's docstring)."""

    def __init__(
        self,
        what: str,
        *,
        per_client: int,
        setting: str,
        total: int | None = None,
        queue: int = 0,
        retry_after: int = 5,
    ) -> None:
        self.what, self.setting, self.retry_after = what, setting, retry_after
        self.per_client, self.total, self.queue = max(1, per_client), total, max(0, queue)
        self._changed = threading.Condition()
        self._running: Counter[str] = Counter()
        self._waiting: Counter[str] = Counter()

    def running(self, client: str | None = None) -> int:
        """How many are running: of ``client``'s, or of everyone's."""
        with self._changed:
            return self._running[client] if client is not None else sum(self._running.values())

    @contextlib.contextmanager
    def slot(self, client: str, deadline: float | None = None) -> Iterator[None]:
        """Run the body of the ``with`` as one of ``client``'s; wait for a turn (until the
        monotonic ``deadline``) only when the queue allows; refuse otherwise."""
        with self._changed:
            self._enter(client, deadline)
        try:
            yield
        finally:
            with self._changed:
                self._running[client] -= 1
                if not self._running[client]:
                    del self._running[client]
                self._changed.notify_all()

    def _enter(self, client: str, deadline: float | None) -> None:
        if self._can_run(client):
            self._running[client] += 1
            return
        if self._waiting[client] >= self.queue or deadline is None:
            raise self._refusal(client)
        self._waiting[client] += 1
        try:
            while not self._can_run(client):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._refusal(client)
                self._changed.wait(remaining)
            self._running[client] += 1
        finally:
            self._waiting[client] -= 1
            if not self._waiting[client]:
                del self._waiting[client]

    def _can_run(self, client: str) -> bool:
        return self._running[client] < self.per_client and (
            self.total is None or sum(self._running.values()) < self.total
        )

    def _refusal(self, client: str) -> TooManyRequests | ServerBusy:
        if self._running[client] >= self.per_client:
            return TooManyRequests(
                f"you already have {self._running[client]} {self.what} under way, the most one client may "
                f"({self.setting}); try again when one has finished",
                retry_after_s=self.retry_after,
            )
        return ServerBusy(
            f"the server already has {self.total} {self.what} under way, the most it takes at once; try again shortly",
            retry_after_s=self.retry_after,
        )
