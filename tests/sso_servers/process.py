"""What the test servers of this package share: a free port on loopback, a
subprocess waited for until it answers, stopped at the end, and the end of
its log in the message when it does not start.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_url(path: str = "") -> str:
    """An address nobody answers at: the port was free a moment ago and
    nothing was started on it, so a connection is refused."""
    return f"http://127.0.0.1:{free_port()}{path}"


def log_tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def answers(url: str, ready: Callable[[bytes], bool] = lambda _body: True) -> bool:
    """Whether ``url`` answers 200 with a body ``ready`` accepts; False while
    the server is still starting (refused, reset, an error page)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our loopback servers)
            return answer.status == 200 and ready(answer.read())
    except urllib.error.HTTPError as error:
        error.close()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass
    return False


def wait_until_ready(process: subprocess.Popen[bytes], ready: Callable[[], bool], *, name: str,
                     what: str, timeout: float, log: Path, stop: Callable[[], None],
                     hint: str = "") -> None:
    """Ask ``ready`` until it says yes. A server that exits first, or does not
    answer ``what`` within ``timeout`` seconds, is stopped (``stop``) and the
    test fails with the end of its ``log``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            code = process.returncode
            stop()
            pytest.fail(f"{name} exited with {code}{hint}:\n{log_tail(log)}", pytrace=False)
        if ready():
            return
        time.sleep(0.1)
    stop()
    pytest.fail(f"{name} did not answer {what} within {timeout} s:\n{log_tail(log)}",
                pytrace=False)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate, then kill if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
