"""The dispatch recommender (派单推荐) at 100,000 volunteers: ``orders.recommend.rank`` against a baseline.

    DATABASE_URL=... .venv/bin/python -m bench.recommend [--migrate] [--volunteers N] [--calls N]

With the database in DATABASE_URL (migrated; ``--migrate`` migrates it first), it builds, once, in
the ``RECO`` namespace of site codes (a second run reuses it):

- a synthetic tree of about 300 sites: one centre, 10 sub-centres, 150 stations, 139 points, spread
  over some 25 km of Shanghai (a few stations without a location);
- 100,000 volunteers with accounts (phones ``196…``, which neither the demo, synth nor the rush
  use), spread over the sites, 0–3 skills each from the shared catalogue, a weekly availability
  (one in ten left empty), 3 % not active, 1 % with their account switched off; 30 teams;
- the service type 家电维修 (skills 家电维修 and 计算机, and the sub-centres' repair teams): about
  12 % of the volunteers qualify; a second type that names no skill or team, for which everyone
  does;
- 50,000 past and open orders accepted by a skewed third of the volunteers (a tenth held now,
  two thirds rated), so that load, rating and fairness have data.

Then it times ``rank(order, limit=5)`` for orders at random places within about 2 km of a station
(four in five with a location, else measured from the station; four in five with a preferred time
in the next two weeks; each declined by up to three volunteers), ``--calls`` of them
per scope: responsible at a station, escalated to its sub-centre, escalated to the centre (every
volunteer of the tree is in scope), and the centre with the type that names nothing (all 100,000
are candidates). Each figure is the wall time of one call (p50/p95/p99) and its ratio to the
baseline of the same run: ``Volunteer.objects.filter(pk=…).exists()``, one indexed lookup through
the ORM. Queries per call are counted in a separate pass (capturing queries costs time).

It prints a markdown table, then the figures as one JSON object on the last line (for bench/run.py);
``measure()`` returns the same dict and ``results()`` turns it into ``bench.report.Result`` rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from bench.report import Result

CODE = "RECO"
PHONE_PREFIX = "196"
SEED = 7
VOLUNTEERS = 100_000
ORDERS = 50_000
CALLS = 200
WARMUP = 20
BASELINE_CALLS = 2000
QUERY_SAMPLE = 20
BATCH = 5000
SUBCENTRES = 10
STATIONS_PER_SUBCENTRE = 15
POINTS = 139
CENTRE = (31.23, 121.47)
REPAIR_SKILLS = ("家电维修", "计算机")
BENCH_ORDER = "压测派单推荐"
SCOPES = ("station", "subcentre", "centre", "centre, type names nothing")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _jitter(rng: random.Random, lat: float, lng: float, spread: float) -> tuple[float, float]:
    return round(lat + rng.uniform(-spread, spread), 6), round(lng + rng.uniform(-spread, spread) * 1.15, 6)


# --- Building the data set ----------------------------------------------------------------


def build(*, volunteers: int, orders: int, seed: int) -> None:
    """The tree, volunteers, teams, types and orders, unless an earlier run left them."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from wenming.accounts.models import User
    from wenming.demo import names
    from wenming.demo.people import SKILLS, availability
    from wenming.network.models import Site, SiteKind, SiteLevel
    from wenming.network.services import create_site
    from wenming.orders.models import Channel, Order, OrderKind, OrderStatus, ServiceType
    from wenming.volunteers.models import Skill, Team, TeamMembership, Volunteer

    if Site.objects.filter(code=CODE).exists():
        say(f"reusing the {CODE} data set")
        return
    rng = random.Random(seed)
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        Skill.objects.bulk_create([Skill(name=n, category=c) for n, c in SKILLS], ignore_conflicts=True)
        skill_ids = list(Skill.objects.filter(name__in=[n for n, _ in SKILLS]).values_list("pk", flat=True))
        repair_skills = list(Skill.objects.filter(name__in=REPAIR_SKILLS))

        centre = create_site(
            actor=None,
            parent=None,
            level=SiteLevel.CENTRE,
            name="推荐压测区新时代文明实践中心",
            code=CODE,
            kind=SiteKind.DISTRICT,
            latitude=CENTRE[0],
            longitude=CENTRE[1],
        )
        subcentres, stations, points = [], [], []
        for i in range(SUBCENTRES):
            lat, lng = _jitter(rng, *CENTRE, 0.10)
            sub = create_site(
                actor=None,
                parent=centre,
                level=SiteLevel.SUBCENTRE,
                name=f"压测{i + 1}街道分中心",
                code=f"{CODE}-{i + 1}",
                kind=SiteKind.STREET,
                latitude=lat,
                longitude=lng,
            )
            subcentres.append(sub)
            for j in range(STATIONS_PER_SUBCENTRE):
                located = rng.random() > 0.03
                slat, slng = _jitter(rng, lat, lng, 0.02)
                stations.append(
                    create_site(
                        actor=None,
                        parent=sub,
                        level=SiteLevel.STATION,
                        name=f"压测{i + 1}-{j + 1}居民区实践站",
                        code=f"{CODE}-{i + 1}-{j + 1}",
                        kind=SiteKind.RESIDENTIAL,
                        latitude=slat if located else None,
                        longitude=slng if located else None,
                    )
                )
        for k, station in enumerate(stations[:POINTS]):
            plat, plng = _jitter(rng, station.latitude or CENTRE[0], station.longitude or CENTRE[1], 0.004)
            points.append(
                create_site(
                    actor=None,
                    parent=station,
                    level=SiteLevel.POINT,
                    name=f"压测实践点{k + 1}",
                    code=f"{station.code}-P",
                    kind=SiteKind.BUILDING,
                    latitude=plat,
                    longitude=plng,
                )
            )
        homes = [*subcentres, *stations, *points]

        password = make_password(None)
        volunteer_ids: list[int] = []
        site_of: dict[int, Site] = {}
        for start in range(0, volunteers, BATCH):
            chunk = range(start, min(start + BATCH, volunteers))
            places = [rng.choice(homes) for _ in chunk]
            users = User.objects.bulk_create(
                [
                    User(
                        phone=f"{PHONE_PREFIX}{n:08d}",
                        name=names.full_name(rng),
                        password=password,
                        home_site=place,
                        is_active=rng.random() > 0.01,
                    )
                    for n, place in zip(chunk, places, strict=True)
                ]
            )
            made = Volunteer.objects.bulk_create(
                [
                    Volunteer(
                        user_id=u.pk,
                        site=place,
                        availability={} if rng.random() < 0.1 else availability(rng),
                        is_active=rng.random() > 0.03,
                    )
                    for u, place in zip(users, places, strict=True)
                ]
            )
            Volunteer.skills.through.objects.bulk_create(
                [
                    Volunteer.skills.through(volunteer_id=v.pk, skill_id=s)
                    for v in made
                    for s in rng.sample(skill_ids, rng.randint(0, 3))
                ]
            )
            for v, place in zip(made, places, strict=True):
                volunteer_ids.append(v.pk)
                site_of[v.pk] = place

        by_subtree: dict[int, list[int]] = {s.pk: [] for s in subcentres}
        for vid, place in site_of.items():
            for sub in subcentres:
                if place.is_within(sub):
                    by_subtree[sub.pk].append(vid)
        repair_teams = []
        for i, sub in enumerate(subcentres):
            for label in ("家电维修服务队", "助老服务队", "文明宣传队"):
                team = Team.objects.create(site=sub, name=f"{label}{i + 1}")
                TeamMembership.objects.bulk_create(
                    [TeamMembership(team=team, volunteer_id=v) for v in rng.sample(by_subtree[sub.pk], 40)]
                )
                if label == "家电维修服务队":
                    repair_teams.append(team)
        repair = ServiceType.objects.create(code="reco-repair", name="压测·家电维修", group="生活服务")
        repair.skills.set(repair_skills)
        repair.teams.set(repair_teams)
        ServiceType.objects.create(code="reco-anyone", name="压测·邻里帮忙", group="生活服务")

        workers = rng.sample(volunteer_ids, len(volunteer_ids) // 3)
        shares = {
            OrderStatus.ACCEPTED: 6,
            OrderStatus.IN_SERVICE: 4,
            OrderStatus.CLOSED: 65,
            OrderStatus.COMPLETED: 5,
            OrderStatus.PENDING: 10,
            OrderStatus.CANCELLED: 10,
        }
        population = [status for status, n in shares.items() for _ in range(n)]
        batch: list[Order] = []
        for _ in range(orders):
            status = rng.choice(population)
            station = rng.choice(stations)
            held = status in (OrderStatus.ACCEPTED, OrderStatus.IN_SERVICE)
            created = now - dt.timedelta(days=rng.uniform(0, 7) if held else rng.uniform(1, 365))
            worker = workers[int(len(workers) * rng.random() ** 2)]
            taken = status not in (OrderStatus.PENDING, OrderStatus.CANCELLED)
            accepted_at = created + dt.timedelta(hours=rng.uniform(0.1, 20)) if taken else None
            rating = None
            if status == OrderStatus.CLOSED:
                rating = rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 10, 3, 2])[0]
            batch.append(
                Order(
                    kind=OrderKind.SERVICE,
                    service_type=repair,
                    site=station,
                    status=status,
                    channel=Channel.STAFF,
                    description="压测订单",
                    created_at=created,
                    updated_at=created,
                    accepted_by_id=worker if taken else None,
                    accepted_at=accepted_at,
                    rating=rating,
                    rated_at=accepted_at + dt.timedelta(days=1) if accepted_at and rating else None,
                )
            )
            if len(batch) >= BATCH:
                Order.objects.bulk_create(batch)
                batch = []
        Order.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        # What autovacuum would do shortly after a bulk load; SQLite has no statistics unless asked
        # (the project never runs ANALYZE there), so it is measured without.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    say(
        f"built {len(homes) + 1} sites, {volunteers:,} volunteers and {orders:,} orders "
        f"in {time.perf_counter() - started:.1f} s"
    )


def bench_orders(scope: str, calls: int, rng: random.Random) -> list[Any]:
    """``calls`` new orders at random places, responsible as the scope says, each declined by up to three."""
    from django.utils import timezone

    from wenming.lib.geo import haversine_m
    from wenming.network.models import Site, SiteLevel
    from wenming.orders.models import Channel, Order, OrderEvent, OrderKind, OrderStatus, ServiceType
    from wenming.volunteers.models import Volunteer

    centre = Site.objects.get(code=CODE)
    stations = [s for s in Site.objects.subtree(centre).filter(level=SiteLevel.STATION) if s.has_location]
    parents = Site.objects.in_bulk({s.parent_id for s in stations})
    code = "reco-anyone" if "nothing" in scope else "reco-repair"
    service_type = ServiceType.objects.get(code=code)
    some_volunteers = list(
        Volunteer.objects.filter(site__path__startswith=centre.path).values_list("pk", flat=True)[:5000]
    )
    now = timezone.now()
    made = []
    for _ in range(calls):
        # Where residents live: within about 2 km of a station (place_order gives an order to the
        # nearest station within 5 km), the responsible station being the nearest.
        near = rng.choice(stations)
        assert near.latitude is not None
        assert near.longitude is not None
        lat, lng = _jitter(rng, near.latitude, near.longitude, 0.018)
        station = min(stations, key=lambda s: haversine_m(lat, lng, s.latitude or 0.0, s.longitude or 0.0))
        escalated = {"station": None, "subcentre": parents[station.parent_id]}.get(scope, centre)
        located = rng.random() < 0.8
        order = Order.objects.create(
            kind=OrderKind.SERVICE,
            service_type=service_type,
            site=station,
            escalated_to=escalated,
            status=OrderStatus.PENDING,
            channel=Channel.STAFF,
            description=BENCH_ORDER,
            latitude=lat if located else None,
            longitude=lng if located else None,
            preferred_at=now + dt.timedelta(hours=rng.uniform(2, 24 * 14)) if rng.random() < 0.8 else None,
        )
        OrderEvent.objects.bulk_create(
            [
                OrderEvent(order=order, action="decline", from_status="dispatched", to_status="pending", volunteer_id=v)
                for v in rng.sample(some_volunteers, rng.randint(0, 3))
            ]
        )
        made.append(Order.objects.select_related("service_type", "site", "escalated_to").get(pk=order.pk))
    return made


# --- Measuring ----------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _timed(calls: list[Callable[[], object]]) -> list[float]:
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _figures(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": _percentile(ms, 50),
        "p95_ms": _percentile(ms, 95),
        "p99_ms": _percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
    }


def measure(
    *, volunteers: int = VOLUNTEERS, orders: int = ORDERS, calls: int = CALLS, seed: int = SEED
) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from wenming.orders import policies
    from wenming.orders.models import Order
    from wenming.orders.recommend import rank
    from wenming.volunteers.models import Volunteer

    build(volunteers=volunteers, orders=orders, seed=seed)
    Order.objects.filter(description=BENCH_ORDER).delete()  # left by an interrupted run
    rng = random.Random(seed + 1)
    ids = list(Volunteer.objects.filter(user__phone__startswith=PHONE_PREFIX).values_list("pk", flat=True))
    probes = [rng.choice(ids) for _ in range(BASELINE_CALLS)]

    def exists(pk: int) -> bool:
        return Volunteer.objects.filter(pk=pk).exists()

    _timed([partial(exists, pk) for pk in probes[:200]])
    baseline = _figures(_timed([partial(exists, pk) for pk in probes]))
    out: dict[str, Any] = {
        "database": connection.vendor,
        "volunteers": Volunteer.objects.count(),
        "orders": Order.objects.count(),
        "calls_per_scope": calls,
        "baseline": baseline,
        "scopes": {},
    }
    now = timezone.now()
    for scope in SCOPES:
        batch = bench_orders(scope, calls, rng)
        for order in batch[:WARMUP]:
            rank(order, limit=5, now=now)
        timings = _timed([partial(rank, order, limit=5, now=now) for order in batch])
        counts, sizes = [], []
        for order in batch[:QUERY_SAMPLE]:
            with CaptureQueriesContext(connection) as ctx:
                found = rank(order, limit=5, now=now)
            counts.append(len(ctx.captured_queries))
            assert len(found) <= 5
            sizes.append(policies.qualified_volunteers(order).count())
        figures = _figures(timings)
        figures["ratio_p50"] = figures["p50_ms"] / baseline["p50_ms"]
        figures["queries"] = max(counts)
        figures["queries_min"] = min(counts)
        figures["candidates_median"] = statistics.median(sizes)
        out["scopes"][scope] = figures
        say(
            f"{scope}: p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
            f"p99 {figures['p99_ms']:.1f} ms; {figures['queries']} queries; "
            f"~{figures['candidates_median']:,.0f} candidates"
        )
        Order.objects.filter(pk__in=[o.pk for o in batch]).delete()
    return out


def markdown(figures: dict[str, Any]) -> str:
    base = figures["baseline"]
    lines = [
        f"派单推荐 `rank(order, limit=5)` · {figures['database']} · {figures['volunteers']:,} volunteers, "
        f"{figures['orders']:,} orders · {figures['calls_per_scope']} calls per scope",
        "",
        "| scope | candidates (median) | p50 | p95 | p99 | p50 vs baseline | queries per call |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scope, f in figures["scopes"].items():
        queries = str(f["queries"]) if f["queries"] == f["queries_min"] else f"{f['queries_min']}–{f['queries']}"
        lines.append(
            f"| {scope} | {f['candidates_median']:,.0f} | {f['p50_ms']:.1f} ms | {f['p95_ms']:.1f} ms | "
            f"{f['p99_ms']:.1f} ms | {f['ratio_p50']:.1f}x | {queries} |"
        )
    lines.append(
        f"| baseline: `Volunteer.objects.filter(pk=…).exists()` | 1 | {base['p50_ms']:.2f} ms | "
        f"{base['p95_ms']:.2f} ms | {base['p99_ms']:.2f} ms | 1.0x | 1 |"
    )
    return "\n".join(lines)


def results(figures: dict[str, Any]) -> list[Result]:
    """Rows for bench/run.py's table: one per scope (calls per second, p50/p99), then the baseline."""
    from bench.report import Result

    base = figures["baseline"]
    rows = []
    for scope, f in figures["scopes"].items():
        rows.append(
            Result(
                f"dispatch recommender rank(limit=5), {scope}",
                1000 / f["p50_ms"],
                "calls/s",
                base["p50_ms"] / f["p50_ms"],
                f["p50_ms"],
                f["p99_ms"],
                note=f"{f['candidates_median']:,.0f} candidates of {figures['volunteers']:,} volunteers; "
                f"p95 {f['p95_ms']:.1f} ms; {f['queries']} queries per call",
            )
        )
    rows.append(
        Result(
            "baseline: Volunteer.objects.filter(pk=…).exists()",
            1000 / base["p50_ms"],
            "calls/s",
            1.0,
            base["p50_ms"],
            base["p99_ms"],
            note="one indexed lookup through the ORM, same process and database",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    parser.add_argument("--volunteers", type=int, default=VOLUNTEERS)
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--calls", type=int, default=CALLS, help=f"rank() calls per scope (default {CALLS})")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    import django

    django.setup()
    if args.migrate:
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
    figures = measure(volunteers=args.volunteers, orders=args.orders, calls=max(args.calls, WARMUP), seed=args.seed)
    print(markdown(figures))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
