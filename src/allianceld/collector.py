"""Python's cycle collector paused while a large piece of work makes many objects.

pyoxigraph's terms (and rdflib's triples) are objects the collector tracks: a write of 200k
triples makes millions of them, and the collections they set off walked them all, with every
object there before (a 200k-triple load: about 0.9 s of CPU in collections). The work's objects
are freed by their reference counts; its few cycles wait for the next collection.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused(pause: bool = True) -> Iterator[None]:
    """The collector off while the block runs (when ``pause``), then as it was: on again if it
    was on, still off if something else had turned it off."""
    if not pause:
        yield
        return
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


__all__ = ["paused"]
