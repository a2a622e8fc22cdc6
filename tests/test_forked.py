"""Work in a forked child process (allianceld.forked): its value comes back, its failures are
told, it runs none of the parent's code after the fork, at a lower priority, and it ends with its
parent. Each check that forks runs in a new interpreter (``in_a_new_process``): a fork needs the
process to have no other thread, and an earlier test in this one may have left one running."""

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
from conftest import in_a_new_process

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="no fork, or one core")


def _value_comes_back() -> None:
    child = forked.start(lambda: (os.getpid(), [str(i) * 3 for i in range(100_000)]))
    assert child is not None
    pid, value = child.result()
    assert pid == child.pid != os.getpid()
    assert value == [str(i) * 3 for i in range(100_000)]  # more than a pipe's buffer


def test_the_childs_value_comes_back_from_another_process() -> None:
    in_a_new_process(_value_comes_back)


def _none_of_the_callers_code(marks: Path) -> None:
    try:
        child = forked.start(lambda: 1)
    finally:
        with marks.open("a") as out:
            out.write(f"{os.getpid()}\n")
    assert child is not None and child.result() == 1
    assert marks.read_text() == f"{os.getpid()}\n"


def test_the_child_runs_none_of_the_callers_code_after_the_fork(tmp_path: Path) -> None:
    """The child ends with os._exit: a ``finally`` around the call runs in the parent only."""
    in_a_new_process(_none_of_the_callers_code, tmp_path / "marks")


def _raises() -> None:
    raise ValueError("no")


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _failure_told(work_name: str) -> None:
    child = forked.start({"raises": _raises, "killed": _killed}[work_name])
    assert child is not None
    with pytest.raises(forked.ChildFailed):
        child.result()
    with pytest.raises(ProcessLookupError):  # reaped
        os.kill(child.pid, 0)


@pytest.mark.parametrize("work", ["raises", "killed"])
def test_a_child_that_fails_is_told_as_such(work: str) -> None:
    in_a_new_process(_failure_told, work)


def _no_fork_beside_a_thread() -> None:
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


def test_no_fork_while_another_thread_runs() -> None:
    """The child would inherit that thread's locks held: nothing is forked."""
    in_a_new_process(_no_fork_beside_a_thread)


def _cancelled() -> None:
    child = forked.start(lambda: threading.Event().wait())
    assert child is not None
    child.cancel()
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)
    with pytest.raises(forked.ChildFailed):
        child.result()


def test_a_cancelled_child_is_ended_and_reaped() -> None:
    in_a_new_process(_cancelled)


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


def _fails_in_a_child(parent: int) -> int:
    if os.getpid() != parent:
        raise ValueError("in the child")
    return os.getpid()


def _fails() -> None:
    raise ValueError("everywhere")


def _beside() -> None:
    parent = os.getpid()
    beside = forked.Beside(os.getpid)
    assert beside.forked
    assert beside.result() != parent and not beside.forked
    calls: list[int] = []
    here = forked.Beside(lambda: calls.append(os.getpid()) or len(calls), fork=False)
    assert not here.forked and calls == []  # done when asked for (after what the caller starts meanwhile)
    assert here.result() == here.result() == 1 and calls == [parent]
    assert forked.Beside(lambda: _fails_in_a_child(parent)).result() == parent
    failing = forked.Beside(_fails)
    with pytest.raises(ValueError, match="everywhere"):
        failing.result()


def test_work_beside_is_done_in_a_child_or_here() -> None:
    """``Beside``: in a child when asked and possible, otherwise here once its value is asked for;
    a failed child's work is done here, where its error is met."""
    in_a_new_process(_beside)


def _lower_priority() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    child = forked.start(lambda: os.getpriority(os.PRIO_PROCESS, 0))
    assert child is not None
    assert child.result() == min(19, mine + forked.NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine


def test_the_child_runs_at_a_lower_priority() -> None:
    """The parent's own work, which the caller waits on first, keeps its core."""
    in_a_new_process(_lower_priority)
