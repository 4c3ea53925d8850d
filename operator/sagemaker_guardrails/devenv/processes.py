"""Child processes of the development environment: started with their output in a log file, and
stopped by their own PID (never by name, so parallel sessions and the developer's own processes are
left alone).

Each child runs in its own process group, so that stopping it also stops whatever it spawned, and
a SIGKILL of the operator in the restart test behaves like a node losing the pod.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any


class ProcessError(RuntimeError):
    """A child did not start, or did not become ready in time; the message holds its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the usual envtest race is acceptable)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports on 127.0.0.1 that were free a moment ago. They are held open
    together while chosen: one at a time, the kernel may hand out a port it has just released, and
    two children of one stack would then fight over it."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot, from /proc): with the PID, it names one process
    for good, so a recorded PID that the system has since reused is never signalled."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _exited(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def stop_recorded(records: Sequence[Mapping[str, Any]], timeout: float = 15.0) -> list[str]:
    """Stops processes recorded by :meth:`Process.record` in another run (``--keep``), in the order
    given, each only if its PID still belongs to the same process."""
    stopped = []
    for record in records:
        pid = int(record["pid"])
        if start_ticks(pid) != record["start_ticks"]:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        try:
            wait_until(functools.partial(_exited, pid), timeout, f"{record['name']} to exit")
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        stopped.append(f"{record['name']} ({pid})")
    return stopped


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_children_on_termination() -> None:
    """Makes SIGTERM and SIGHUP (a closed terminal) behave like Ctrl-C in a command that owns
    children, so that its ``finally`` blocks stop them instead of leaving them orphaned."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


class Process:
    """One child process whose stdout and stderr go to ``log_path``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Process:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        try:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            self._log.close()
            raise ProcessError(f"{self.name}: cannot start {self.argv[0]}: {exc}") from exc
        return self

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise ProcessError(f"{self.name} was not started")
        return self._popen.pid

    def record(self) -> dict[str, Any]:
        """What :func:`stop_recorded` needs to stop this process from another run."""
        return {
            "name": self.name,
            "pid": self.pid,
            "start_ticks": start_ticks(self.pid),
            "log": str(self.log_path),
        }

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def ensure_alive(self) -> None:
        if not self.alive():
            raise ProcessError(
                f"{self.name} exited with {self.returncode()}; last log lines:\n{log_tail(self.log_path)}"
            )

    def wait_ready(self, check: Callable[[], bool], timeout: float) -> None:
        """Waits for ``check`` while failing fast (with the log tail) if the process dies."""

        def ready() -> bool:
            self.ensure_alive()
            return check()

        try:
            wait_until(ready, timeout, f"{self.name} to become ready")
        except TimeoutError as exc:
            raise ProcessError(f"{exc}; last log lines:\n{log_tail(self.log_path)}") from exc

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL, no chance to clean up: what a crashed node does to a pod."""
        if self._popen is not None and self._popen.poll() is None:
            self._signal_group(signal.SIGKILL)
            self._popen.wait()
        self._close_log()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
