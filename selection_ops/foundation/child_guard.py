"""The guard between a run and a tool's CLI: started by ``processes.start_child`` as
``python child_guard.py <parent pid> -- <command...>``, it runs the command and makes sure nothing of it outlives
the run that started it, whatever ends that run (SIGKILL included).

Why a guard and not only ``PR_SET_PDEATHSIG`` on the command itself: the parent-death signal reaches the direct
child only, and the CLIs start their own workers (OpenCompass's task processes, torchrun's workers in their own
sessions). The guard is the leader of its own process group and a child subreaper (``PR_SET_CHILD_SUBREAPER``:
orphaned workers are re-parented to it, not to init), asks for SIGTERM when its parent thread dies, and on that
signal, or any other end, kills every process below it: its group and every descendant found in ``/proc``.

Standard library only, run by path: it starts in tens of milliseconds and imports nothing of the project.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 3.0  # how long the command's processes get to exit after SIGTERM before SIGKILL


def prctl(option: int, value: int) -> bool:
    """Linux ``prctl``; False where it does not exist (the guard then still kills its group on a signal)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> list[int]:
    """Pids of every process below ``root`` (read from ``/proc``), children before their parents' siblings."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_below(sig: int) -> None:
    """Send ``sig`` to every descendant and to the guard's own group (the guard itself excepted)."""
    for pid in descendants(os.getpid()):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    try:
        os.killpg(os.getpgid(0), sig) if sig != signal.SIGKILL else None
    except OSError:
        pass


def end_everything(first: int) -> None:
    """``first`` (SIGTERM) to everything below, SIGKILL to what is left after ``GRACE_S``; reap what exited."""
    kill_below(first)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and descendants(os.getpid()):
        _reap()
        time.sleep(0.05)
    kill_below(signal.SIGKILL)
    _reap()


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[argv.index("--") + 1:]
    # blocked signals survive exec: whatever the starting thread blocked, the guard and its command take them
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    received: list[int] = []

    def on_signal(signo: int, _frame) -> None:
        received.append(signo)
        raise KeyboardInterrupt

    for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signo, on_signal)
    if os.getppid() != parent:  # the run died before the parent-death signal was armed
        return 128 + signal.SIGTERM
    try:
        child = subprocess.Popen(command)
        code = child.wait()
    except KeyboardInterrupt:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # our own group signal below must not stop the cleanup
        end_everything(signal.SIGTERM)
        return 128 + (received[0] if received else signal.SIGTERM)
    except OSError as error:
        print(f"cannot start {command[0]}: {error}", file=sys.stderr)
        return 127
    # the command is done: whatever it left running (a worker it did not wait for) goes with it
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    end_everything(signal.SIGTERM)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
