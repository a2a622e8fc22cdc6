"""Work done in a forked child process while this process goes on with its own: for two pieces of
work that each hold Python's GIL (a large write's validation beside its reasoning), on a machine
with more than one core.

Only from a process in which no other Python thread runs (a command's), and only for work that
reads what this process holds in memory and touches no open store: the child is a copy of this
process in which only the forking thread runs, so every lock another thread held would stay held
in it. The child sends the work's value back pickled, and ends with ``os._exit``: nothing of this
process's clean-up (``finally`` blocks, ``atexit``, a store's closing) runs in it, and it dies with
this process. It runs at a lower priority (:data:`NICENESS`): this process's own work, which the
caller waits on first, keeps its core, and the child takes the time the cores have left (a
200k-triple load's validation: 0.4 s less of the load's 8.5 s on 2 cores, with its early loading
also lowered). A child that fails (an exception, a signal) sends nothing: the caller does the
work itself and meets the error there (:class:`ChildFailed`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a child gets when its parent dies
#: how much lower a child's priority is than its parent's (os.nice)
NICENESS = 10


class ChildFailed(Exception):
    """The forked child ended without a value (it raised, or was killed)."""


class Forked(Generic[T]):
    """A forked child doing one piece of work: :meth:`result` waits for its value, :meth:`cancel`
    ends it unheard."""

    def __init__(self, pid: int, reading: int) -> None:
        self.pid = pid
        self._reading: int | None = reading

    def result(self) -> T:
        """The work's value, once the child has sent it; :class:`ChildFailed` when it sent none."""
        if self._reading is None:
            raise ChildFailed("the child was already heard or cancelled")
        with os.fdopen(self._reading, "rb") as pipe:
            self._reading = None
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0 or not data:
            raise ChildFailed(f"the child process {self.pid} ended with status {status} and no value")
        return pickle.loads(data)  # our own child's value

    def cancel(self) -> None:
        """End the child if it is still unheard (the caller stopped waiting for it)."""
        if self._reading is None:
            return
        os.close(self._reading)
        self._reading = None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


class Beside(Generic[T]):
    """``work()`` done beside the caller, in a forked child (:func:`start`) where ``fork`` asks
    for it and it can be done, otherwise here when its value is first asked for: :meth:`result`
    gives its value. A child that failed (an error, a signal) is replaced by the work done here,
    where its error is met."""

    def __init__(self, work: Callable[[], T], *, fork: bool = True) -> None:
        self._work = work
        self._child = start(work) if fork else None
        self._done: tuple[T] | None = None

    @property
    def forked(self) -> bool:
        """Whether the work runs in a child not heard yet."""
        return self._child is not None

    def result(self) -> T:
        """The work's value: the child's, once it sent it, or made here."""
        if self._done is None:
            child, self._child = self._child, None
            if child is None:
                self._done = (self._work(),)
            else:
                try:
                    self._done = (child.result(),)
                except ChildFailed as exc:
                    log.info("%s: the work is done here", exc)
                    self._done = (self._work(),)
        return self._done[0]

    def cancel(self) -> None:
        """End the child, unheard (the caller no longer needs its value)."""
        if self._child is not None:
            self._child.cancel()
            self._child = None


def start(work: Callable[[], T]) -> Forked[T] | None:
    """``work()`` begun in a forked child process; None, starting nothing, where that cannot be
    done safely or would not help: no ``os.fork`` (Windows), one core, or another Python thread
    running (whose locks the child would inherit held)."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 or threading.active_count() != 1:
        return None
    reading, writing = os.pipe()
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # Python 3.12+ warns when the process has other OS threads (a store's own): the child
        # calls none of their code (see the module's docstring)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        _child(work, reading, writing, parent)
    os.close(writing)
    return Forked(pid, reading)


def _child(work: Callable[[], object], reading: int, writing: int, parent: int) -> NoReturn:
    """In the child: do ``work``, send its value, and end without any of the parent's clean-up."""
    code = 1
    try:
        os.close(reading)
        gc.disable()  # no collection of the parent's objects (a store's iterators among them) here
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        os.nice(NICENESS)
        if os.getppid() == parent:  # else the parent died before the line above
            value = work()
            with os.fdopen(writing, "wb") as pipe:
                pickle.dump(value, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
    except BaseException:  # the parent does the work again, and meets the error
        pass
    finally:
        os._exit(code)


__all__ = ["Beside", "ChildFailed", "Forked", "start"]
