"""Work in a forked child process (allianceld.forked): its value comes back, its failures are
told, it runs none of the parent's code after the fork, and it ends with its parent."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from allianceld import forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="no fork, or one core")


def test_the_childs_value_comes_back_from_another_process() -> None:
    child = forked.start(lambda: (os.getpid(), [str(i) * 3 for i in range(100_000)]))
    assert child is not None
    pid, value = child.result()
    assert pid == child.pid != os.getpid()
    assert value == [str(i) * 3 for i in range(100_000)]  # more than a pipe's buffer


def test_the_child_runs_none_of_the_callers_code_after_the_fork(tmp_path: Path) -> None:
    """The child ends with os._exit: a ``finally`` around the call runs in the parent only."""
    marks = tmp_path / "marks"
    try:
        child = forked.start(lambda: 1)
    finally:
        with marks.open("a") as out:
            out.write(f"{os.getpid()}\n")
    assert child is not None and child.result() == 1
    assert marks.read_text() == f"{os.getpid()}\n"


def _raises() -> None:
    raise ValueError("no")


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("work", [_raises, _killed], ids=["raises", "killed"])
def test_a_child_that_fails_is_told_as_such(work: object) -> None:
    child = forked.start(work)  # type: ignore[arg-type]
    assert child is not None
    with pytest.raises(forked.ChildFailed):
        child.result()
    with pytest.raises(ProcessLookupError):  # reaped
        os.kill(child.pid, 0)


def test_no_fork_while_another_thread_runs() -> None:
    """The child would inherit that thread's locks held: nothing is forked."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert forked.start(lambda: 1) is None
    finally:
        stop.set()
        other.join()
    child = forked.start(lambda: 1)
    assert child is not None and child.result() == 1


def test_a_cancelled_child_is_ended_and_reaped() -> None:
    child = forked.start(lambda: threading.Event().wait())
    assert child is not None
    child.cancel()
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)
    with pytest.raises(forked.ChildFailed):
        child.result()


ORPHANED = textwrap.dedent(
    """
    import sys, threading
    from allianceld import forked
    child = forked.start(lambda: threading.Event().wait())
    print(child.pid, flush=True)
    sys.stdin.read()  # until killed
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the death signal is Linux's")
def test_the_child_ends_with_its_parent() -> None:
    """A parent killed while its child works: the child is killed too (it holds no lock of the
    store, but would go on using a core for nothing)."""
    parent = subprocess.Popen([sys.executable, "-c", ORPHANED], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    watch = os.pidfd_open(pid)
    try:
        assert not select.select([watch], [], [], 0)[0]  # still working
        parent.kill()
        parent.wait()
        assert select.select([watch], [], [], 60)[0], "the child outlived its parent"
    finally:
        os.close(watch)


def test_work_beside_is_done_in_a_child_or_here() -> None:
    """``Beside``: in a child when asked and possible, otherwise here once its value is asked for;
    a failed child's work is done here, where its error is met."""
    parent = os.getpid()
    beside = forked.Beside(os.getpid)
    assert beside.forked
    assert beside.result() != parent and not beside.forked
    calls: list[int] = []
    here = forked.Beside(lambda: calls.append(os.getpid()) or len(calls), fork=False)
    assert not here.forked and calls == []  # done when asked for (after what the caller starts meanwhile)
    assert here.result() == here.result() == 1 and calls == [parent]

    def fails_in_the_child() -> int:
        if os.getpid() != parent:
            raise ValueError("in the child")
        return os.getpid()

    assert forked.Beside(fails_in_the_child).result() == parent

    def fails() -> None:
        raise ValueError("everywhere")

    failing = forked.Beside(fails)
    with pytest.raises(ValueError, match="everywhere"):
        failing.result()


def test_the_child_runs_at_a_lower_priority() -> None:
    """The parent's own work, which the caller waits on first, keeps its core."""
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    child = forked.start(lambda: os.getpriority(os.PRIO_PROCESS, 0))
    assert child is not None
    assert child.result() == min(19, mine + forked.NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine
