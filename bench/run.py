"""Run every benchmark and record the figures in BENCHMARKS.md.

    .venv/bin/python bench/run.py [--quick] [--postgres] [--clients N] [--seconds S]

See BENCHMARKS.md for what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, machine, recommend, report, rush  # noqa: E402

BENCH_DIR = ROOT / "var" / "bench"
SQLITE_PATH = BENCH_DIR / "bench.sqlite3"
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
POSTGRES_BENCH_DB = "wenming_bench"
POSTGRES_URL = f"postgres://postgres@127.0.0.1:5432/{POSTGRES_BENCH_DB}"
SYNTH_SEED = 1
STEP_TIMEOUT_S = 900
BASELINE = "GET /bench/baseline"
# The demo street's centre (wenming/demo/street.py): ~35 sites lie within 1.5 km.
NEARBY = "lat=31.26&lng=121.49&radius_m=1500"


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(use_postgres: bool) -> str:
    if use_postgres:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {POSTGRES_BENCH_DB}")
        return POSTGRES_URL
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{SQLITE_PATH}"


def environment(database_url: str, static_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WENMING_", "WEB_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="wenming.settings",
        WENMING_VAR_DIR=str(BENCH_DIR),
        STATIC_ROOT=str(static_root),
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.pop("REDIS_URL", None)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def bench_module(env: dict[str, str], module: str, *args: str) -> Any:
    """``python -m <module> <args>`` with the bench environment; the JSON on its last line of output."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{module} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def synth_benchmark(env: dict[str, str]) -> dict[str, float]:
    result: dict[str, float] = bench_module(env, "bench.synth_bench", "--seed", str(SYNTH_SEED))
    return result


class Server:
    """gunicorn with the repository's config on a free port; always stopped."""

    def __init__(self, env: dict[str, str], *, workers: int, threads: int) -> None:
        self.port = free_port()
        self.log_path = BENCH_DIR / "gunicorn.log"
        self.env = {
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_WORKERS": str(workers),
            "WEB_THREADS": str(threads),
            "WENMING_BENCH_BASELINE": "true",
            # gunicorn.conf.py cannot switch the access log off (an empty value
            # is refused), so its lines go nowhere; formatting them is measured.
            "WEB_ACCESS_LOG": "",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        for _ in range(120):  # up to ~30 s
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited early; see {self.log_path}")
            status, _body = load.probe(self.port, "/healthz")
            if status == 200:
                return self
            time.sleep(0.25)
        self.stop()
        raise SystemExit(f"gunicorn did not answer /healthz; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def http_benchmarks(
    server: Server, *, subcentre_id: int, clients: int, seconds: float, warmup: float
) -> list[report.Result]:
    targets = [
        (BASELINE, "/bench/baseline"),
        ("GET /healthz", "/healthz"),
        ("GET /api/sites?page_size=20", "/api/sites?page_size=20"),
        ("GET /api/sites/nearby (1.5 km)", f"/api/sites/nearby?{NEARBY}"),
        ("GET /sites/{sub-centre}/week/ (this week)", f"/sites/{subcentre_id}/week/"),
        ("GET /sites/{sub-centre}/activities.ics", f"/sites/{subcentre_id}/activities.ics"),
    ]
    results: list[report.Result] = []
    baseline_rps: float | None = None
    for name, path in targets:
        status, body = load.probe(server.port, path)
        if status != 200:
            say(f"{name}: not available (HTTP {status}: {body[:120]!r}); skipped")
            results.append(report.Result(name, float("nan"), "req/s", note=f"not available (HTTP {status})"))
            continue
        measured = load.run(server.port, path, clients=clients, seconds=seconds, warmup=warmup)
        if baseline_rps is None and path == "/bench/baseline":
            baseline_rps = measured.rps
        ratio = measured.rps / baseline_rps if baseline_rps else None
        note = f"{len(body):,} B body"
        if measured.errors:
            note += "; statuses " + ", ".join(f"{s}×{n}" for s, n in sorted(measured.statuses.items()))
        result = report.Result(
            name,
            measured.rps,
            "req/s",
            ratio,
            measured.percentile(50),
            measured.percentile(99),
            measured.errors,
            note,
        )
        say(result.line())
        results.append(result)
    return results


@dataclass
class Rush:
    """The sign-up rush's figures and verdict (bench/rush.py)."""

    result: rush.RushResult
    wrong: list[str]
    database: dict[str, Any]

    @property
    def passed(self) -> bool:
        return not self.wrong

    def results(self, baseline_rps: float | None) -> list[report.Result]:
        r = self.result
        tally = r.tally()
        failed = sum(n for (status, _outcome), n in tally.items() if status >= 500 or status == 0)
        ratio = r.rps / baseline_rps if baseline_rps else None
        rows = self.database["rows"]
        verdict = (
            f"{tally[(201, 'confirmed')]} confirmed, {tally[(201, 'waitlisted')]} waitlisted, "
            f"{tally[(409, 'full')]} × 409 full, {failed} × 5xx or dropped; database: "
            f"{len(rows.get('confirmed', []))} confirmed and {len(rows.get('waitlisted', []))} waitlisted rows, "
            f"counters {self.database['confirmed_count']} / {self.database['waitlist_count']}"
        )
        if self.wrong:
            verdict += " — " + "; ".join(self.wrong)
        return [
            report.Result(
                f"POST sign-up rush: {len(r.answers):,} residents, {rush.SEATS} seats + {rush.WAITLIST} waitlist",
                r.rps,
                "sign-ups/s",
                ratio,
                r.percentile(50),
                r.percentile(99),
                failed,
                f"{r.clients} client threads, one connection per POST; {len(r.answers):,} answered in "
                f"{r.seconds:.2f} s; {rush.summary(r)}",
            ),
            report.Result(
                "sign-up rush: correctness",
                float("nan"),
                "",
                note=verdict,
                text="PASS" if self.passed else "FAIL",
            ),
        ]


def sign_up_rush(server: Server, env: dict[str, str], setup: dict[str, Any], *, clients: int) -> Rush:
    activity_id = int(setup["activity_id"])
    residents: list[dict[str, Any]] = setup["residents"]
    tokens = [str(r["token"]) for r in residents]
    rush.warm_up(server.port, activity_id, tokens[:200], clients=16)
    result = rush.fire(server.port, activity_id, residents, clients=clients)
    database: dict[str, Any] = bench_module(env, "bench.rush", "verify", "--activity", str(activity_id))
    return Rush(result, rush.judge(result, len(residents), database), database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s per endpoint instead of 10 s")
    parser.add_argument("--postgres", action="store_true", help=f"use {POSTGRES_URL} (dropped and recreated)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--seconds", type=float, help="measured seconds per endpoint")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--rush-clients", type=int, default=100, help="client threads of the sign-up rush (default 100)"
    )
    parser.add_argument("--no-markdown", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    warmup = 1.0 if args.quick else 2.0
    clients = max(1, min(args.clients, 64))
    rush_clients = max(1, min(args.rush_clients, 200))

    started = time.perf_counter()
    load_before = machine.load_average()
    database_url = prepare_database(args.postgres)
    static_root = Path(tempfile.mkdtemp(prefix="wenming-bench-static-"))
    try:
        env = environment(database_url, static_root)
        say(f"database: {database_url}")
        manage(env, "migrate", "--noinput")
        manage(env, "createcachetable")
        say("synth --scale street and the plain-insert baseline …")
        synth = synth_benchmark(env)
        synth_ratio = synth["synth_rps"] / synth["baseline_rps"]
        results = [
            report.Result(
                "synth --scale street",
                synth["synth_rps"],
                "rows/s",
                synth_ratio,
                note=f"{int(synth['rows']):,} rows in {synth['synth_seconds']:.2f} s",
            ),
            report.Result(
                "baseline: plain bulk insert, narrow table",
                synth["baseline_rps"],
                "rows/s",
                1.0,
                note=f"{int(synth['rows']):,} rows in {synth['baseline_seconds']:.2f} s",
            ),
        ]
        for result in results:
            say(result.line())
        manage(env, "load_demo")
        say("dispatch recommender: 100,000 volunteers, 300 sites, 50,000 orders …")
        reco = bench_module(env, "bench.recommend", *(["--calls", "50"] if args.quick else []))
        reco_results = recommend.results(reco)
        for result in reco_results:
            say(result.line())
        results += reco_results
        manage(env, "collectstatic", "--noinput")
        say(f"sign-up rush setup: {rush.RESIDENTS:,} residents with API tokens, one activity …")
        rush_setup: dict[str, Any] = bench_module(env, "bench.rush", "setup")
        say(
            f"gunicorn: {args.workers} workers × {args.threads} threads; {clients} clients, "
            f"{seconds:g} s per endpoint after {warmup:g} s warm-up"
        )
        with Server(env, workers=args.workers, threads=args.threads) as server:
            # The rush first, on workers that have served fewer than max_requests (gunicorn.conf.py): no worker
            # restarts in the middle of it.
            the_rush = sign_up_rush(server, env, rush_setup, clients=rush_clients)
            http = http_benchmarks(
                server,
                subcentre_id=int(rush_setup["subcentre_id"]),
                clients=clients,
                seconds=seconds,
                warmup=warmup,
            )
        baseline_rps = next((r.value for r in http if r.name == BASELINE and not math.isnan(r.value)), None)
        rush_results = the_rush.results(baseline_rps)
        for result in rush_results:
            say(result.line())
        results += http + rush_results
    finally:
        shutil.rmtree(static_root, ignore_errors=True)

    facts = machine.facts(database_url, ROOT)
    kind = "PostgreSQL" if args.postgres else "SQLite"
    title = f"{facts['date']} · {kind} · {'quick' if args.quick else 'full'}"
    setup = [
        f"gunicorn (gthread) {args.workers} workers × {args.threads} threads, access log off; "
        f"{clients} client threads on the same machine; {seconds:g} s per endpoint after {warmup:g} s warm-up",
        f"data: synth street (seed {SYNTH_SEED}) + the demo street; nearby query `{NEARBY}`; "
        "week page and feed of the demo sub-centre",
        f"sign-up rush: {rush.RESIDENTS:,} residents with API tokens, one activity with {rush.SEATS} seats and a "
        f"waitlist of {rush.WAITLIST}; {rush_clients} client threads released on a barrier, a new connection per "
        "POST, run first on the fresh server; verdict read back from the database",
        "recommender: 100,000 volunteers with accounts over 300 synthetic sites, about 12 % qualified for "
        f"家电维修, 50,000 orders; {50 if args.quick else 200} rank(limit=5) calls per scope after 20 warm-ups; "
        "baseline `Volunteer.objects.filter(pk=…).exists()` in the same process",
        f"load average (1/5/15 min) before the run {load_before}, after it {machine.load_average()}; "
        f"whole run {time.perf_counter() - started:.0f} s",
    ]
    if not args.no_markdown:
        path = ROOT / "BENCHMARKS.md"
        report.update_markdown(path, report.run_section(title, facts, setup, results))
        say(f"written: {path}")
    if not the_rush.passed:
        raise SystemExit("sign-up rush: FAIL — " + "; ".join(the_rush.wrong))
    say("sign-up rush: PASS")


if __name__ == "__main__":
    main()
