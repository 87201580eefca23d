"""A standard-library HTTP client for the concurrency tests.

Kept apart from the test module so that the processes spawned by
``tests/test_concurrency.py`` import nothing but the standard library (no
pytest, no app): they start fast and share no state with the test process.
"""

from __future__ import annotations

import json
import threading
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

TIMEOUT = 20.0
# What a request that got no HTTP answer at all is recorded as.
NO_ANSWER = 0
LOOPBACK = "http://127.0.0.1:"

Answer = tuple[int, Any]


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        return raw.decode("utf-8", "replace")[:500]


def call(method: str, url: str, body: Any = None, token: str | None = None,
         timeout: float = TIMEOUT) -> Answer:
    """One request; an HTTP error is an answer like any other, a network
    failure is ``(NO_ANSWER, text)``."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if not url.startswith(LOOPBACK):
        raise ValueError(f"loopback only, not {url}")
    request = urllib.request.Request(url, data=data, headers=headers,  # noqa: S310 - loopback
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as error:
        try:
            return error.code, _decode(error.read())
        finally:
            error.close()
    except (OSError, urllib.error.URLError) as error:
        return NO_ANSWER, f"{type(error).__name__}: {error}"


Request = tuple[str, str, Any]  # method, URL, JSON body


def race(token: str, requests: list[Request],
         gate: Callable[[], None] | None = None) -> list[Answer]:
    """Send each request from its own thread, all released together by a
    barrier; the answers in the order of the requests.

    ``gate``, if given, is waited for by this thread before it joins the
    barrier: another process's threads can then be released at the same time.
    """
    answers: list[Answer] = [(NO_ANSWER, "not run")] * len(requests)
    barrier = threading.Barrier(len(requests) + 1)

    def run(index: int, method: str, url: str, body: Any) -> None:
        try:
            barrier.wait(TIMEOUT)
        except threading.BrokenBarrierError:
            answers[index] = (NO_ANSWER, "the start barrier broke")
            return
        answers[index] = call(method, url, body, token)

    threads = [threading.Thread(target=run, args=(i, *request), daemon=True)
               for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    try:
        if gate is not None:
            gate()
        barrier.wait(TIMEOUT)
    except BaseException:
        barrier.abort()
        raise
    finally:
        for thread in threads:
            thread.join(TIMEOUT + 5)
    return answers


def race_in_process(index: int, token: str, requests: list[Request],
                    processes_ready: Any, results: Any) -> None:
    """Entry point of a spawned process: its threads start when every
    process has reached ``processes_ready`` (a multiprocessing Barrier); its
    answers, or its traceback, go to the ``results`` queue with ``index``."""
    try:
        answers = race(token, requests, gate=lambda: processes_ready.wait(TIMEOUT))
    except BaseException:
        results.put((index, [], traceback.format_exc()))
    else:
        results.put((index, answers, None))
