"""A bounded HTTP load generator: N client threads, keep-alive, fixed duration.

Only ever aimed at 127.0.0.1. Every loop is bounded twice: by a deadline and
by a maximum number of requests per client, so nothing runs away.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field

MAX_REQUESTS_PER_CLIENT = 1_000_000
TIMEOUT_S = 10.0
# A write in a rush may queue behind the others (SQLite's busy timeout is 20 s).
POST_TIMEOUT_S = 60.0


@dataclass
class LoadResult:
    path: str
    clients: int
    seconds: float
    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def probe(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One GET; (status, body), or (0, error text) when the connection fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except OSError as exc:
        return 0, str(exc).encode()
    finally:
        conn.close()


def post_once(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One POST on a connection of its own, closed after the answer: (status, body).

    A request that gets no answer (refused, reset, timed out) is (0, the error
    text): with a non-idempotent POST it is not retried, it is a result.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=POST_TIMEOUT_S)
    try:
        conn.request("POST", path, body=body, headers={**headers, "Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        return 0, repr(exc).encode()
    finally:
        conn.close()


def run(port: int, path: str, *, clients: int, seconds: float, warmup: float) -> LoadResult:
    """GET ``path`` from ``clients`` threads for ``warmup`` + ``seconds``; count only the last ``seconds``."""
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + seconds
    lock = threading.Lock()
    result = LoadResult(path=path, clients=clients, seconds=seconds)

    def client() -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        requests = errors = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
        try:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                began = time.perf_counter()
                if began >= deadline:
                    break
                status = 0
                try:
                    conn.request("GET", path, headers={"Connection": "keep-alive"})
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    if response.will_close:
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
                ended = time.perf_counter()
                if began < measure_from or ended > deadline:
                    continue
                requests += 1
                statuses[status] = statuses.get(status, 0) + 1
                if status != 200:
                    errors += 1
                latencies.append((ended - began) * 1000)
        finally:
            conn.close()
        with lock:
            result.requests += requests
            result.errors += errors
            result.latencies_ms.extend(latencies)
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + seconds + TIMEOUT_S + 5)
    return result
