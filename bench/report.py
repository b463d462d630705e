"""Results and BENCHMARKS.md: the newest run on top, earlier runs kept below it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

RUNS_MARKER = "<!-- bench:runs — written by bench/run.py, newest first; edit the text above this line only -->"

HEADER = """# Benchmarks

Measured by one command, `.venv/bin/python bench/run.py` (`--quick` for a short
run, `--postgres` for PostgreSQL at `postgres://postgres@127.0.0.1:5432/wenming_bench`,
which it drops and recreates). It:

1. prepares a scratch database (SQLite under `var/bench/` by default), migrates it,
   creates the cache table, runs `synth --scale street` and `load_demo`, and
   collects static files into a temporary `STATIC_ROOT`;
2. **synth**: times the street-scale generator end to end, then a plain bulk insert of
   the same number of rows into a narrow scratch table (COPY on PostgreSQL,
   `executemany` in one transaction on SQLite) — the ratio is what the generator's
   consistency (ids, paths, encrypted ID numbers, roles, FKs) costs over the raw path
   (the one Argon2 hash of the demo password all synthetic accounts share is made before
   the clock starts);
3. **HTTP**: starts gunicorn with `gunicorn.conf.py` on a free localhost port and, for each
   endpoint, drives N client threads (`http.client`, keep-alive) for a fixed time after a
   warm-up, reporting requests/s, p50/p99 latency and errors. The baseline is
   `/bench/baseline`, a bare Django JSON view served by the same process (mounted only when
   `WENMING_BENCH_BASELINE=true`); every endpoint's ratio is to the baseline of the same run.
   Besides the API, it measures the demo sub-centre's mobile weekly preview
   (`/sites/<id>/week/`, this week, with the demo street's activities of its whole subtree)
   and its iCalendar feed (`/sites/<id>/activities.ics`, everything public from 30 days ago on).
   Both are cached by a fingerprint of what they show (one aggregate query per request: count,
   highest id, summed revisions and seat counters), so the steady state measured here is a cache
   hit; any edit, cancellation or sign-up changes the fingerprint and the next request rebuilds;
4. **sign-up rush** (`bench/rush.py`): before the server starts, `python -m bench.rush setup`
   publishes one activity at the demo sub-centre (30 seats, a waitlist of 20, four weeks
   ahead so it stays off the measured week) and creates 1,000 residents, each with an API
   token from `issue_api_token`. On the fresh server, first of all (so no worker reaches
   gunicorn's `max_requests` and restarts mid-rush), after a short warm-up of signed-in reads,
   100 client threads released together on a barrier fire the 1,000
   `POST /api/activities/<id>/signups`, one per resident, each on a connection of its own
   (as behind a proxy that does not keep upstream connections alive); nothing is retried.
   The figures are sign-ups answered per second (1,000 over the wall time from the barrier to
   the last answer) with its ratio to the baseline's requests/s, and p50/p99 latency, which
   include the queueing of 100 clients on the server's workers × threads. The **correctness**
   row is PASS only if exactly 30 were told `confirmed` and 20 `waitlisted`, the other 950 got
   409 `full`, none got a 5xx or no answer, and the database (read back by
   `python -m bench.rush verify`) holds 30 confirmed and 20 waitlisted rows, for exactly the
   people told so, no one twice, with the activity's counters equal to the rows. A FAIL is
   recorded here and makes `bench/run.py` exit non-zero.
5. **dispatch recommender** (`bench/recommend.py`): after `load_demo`, `python -m bench.recommend`
   builds 100,000 volunteers with accounts over 300 synthetic sites (about 12 % hold the skill
   家电维修), 50,000 past and open orders (load, ratings, the last 30 days), then times
   `orders.recommend.rank(order, limit=5)` for orders at random places at four scopes (a
   station, a sub-centre, the centre, and the centre for a type that names no skill), reporting
   calls/s, p50/p95/p99 and SQL queries per call. The baseline is one indexed ORM lookup
   (`Volunteer.objects.filter(pk=…).exists()`) in the same process; the aim is p95 under 50 ms.

The load generator and the server share the machine's cores, so absolute figures are
lower than a separate client would measure; compare ratios across runs, and runs on the
same machine (each run records the load average: other work on the machine shows there).
gunicorn's access log is switched off (`WEB_ACCESS_LOG=` empty) for every endpoint alike.
All load goes to 127.0.0.1 and every loop is bounded in time and count.
Nothing in the test suite times anything.

## Runs, newest first

"""


@dataclass
class Result:
    name: str
    value: float
    unit: str
    ratio: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    note: str = ""
    text: str = ""  # shown instead of the number (a verdict such as PASS)

    def shown(self) -> str:
        return self.text or f"{_number(self.value)} {self.unit}"

    def line(self) -> str:
        ratio = f" ({self.ratio:.2f}x baseline)" if self.ratio is not None else ""
        extra = []
        if self.p50_ms is not None and not math.isnan(self.p50_ms):
            extra.append(f"p50 {self.p50_ms:.1f} ms")
        if self.p99_ms is not None and not math.isnan(self.p99_ms):
            extra.append(f"p99 {self.p99_ms:.1f} ms")
        if self.errors is not None:
            extra.append(f"errors {self.errors}")
        if self.note:
            extra.append(self.note)
        tail = ("  [" + ", ".join(extra) + "]") if extra else ""
        return f"{self.name}: {self.shown()}{ratio}{tail}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _ms(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.1f} ms"


def run_section(title: str, machine: dict[str, str], setup: list[str], results: list[Result]) -> str:
    lines = [f"### {title}", ""]
    lines.append("| machine | |")
    lines.append("|---|---|")
    for key in ("date", "cpu", "cores", "memory", "os", "python", "django", "gunicorn", "database", "commit"):
        lines.append(f"| {key} | {machine.get(key, '?')} |")
    lines.append("")
    lines.extend(f"- {item}" for item in setup)
    lines.append("")
    lines.append("| benchmark | value | vs baseline | p50 | p99 | errors | note |")
    lines.append("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        errors = "" if r.errors is None else str(r.errors)
        value = f"**{r.text}**" if r.text else r.shown()
        lines.append(f"| {r.name} | {value} | {ratio} | {_ms(r.p50_ms)} | {_ms(r.p99_ms)} | {errors} | {r.note} |")
    lines.append("")
    return "\n".join(lines)


def update_markdown(path: Path, section: str) -> None:
    """The text above the marker as it was (HEADER the first time), the new run, then every earlier run."""
    header, history = HEADER, ""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if RUNS_MARKER in text:
            header, history = text.split(RUNS_MARKER, 1)
            history = history.lstrip("\n")
    body = header + RUNS_MARKER + "\n\n" + section.rstrip() + "\n"
    if history:
        body += "\n" + history.rstrip() + "\n"
    path.write_text(body, encoding="utf-8")
