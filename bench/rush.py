"""The sign-up rush: a thousand residents press 报名 at once for thirty seats and a waitlist of twenty.

Three steps, driven by bench/run.py against the scratch database and the
served app:

- ``python -m bench.rush setup`` (DJANGO_SETTINGS_MODULE and DATABASE_URL
  set, the demo street loaded): one published activity at the demo
  sub-centre, ``SEATS`` seats and a waitlist of ``WAITLIST``, four weeks
  ahead (outside the weekly page the runner measures), and ``RESIDENTS``
  residents of one of its stations, each with an API token issued by
  ``wenming.accounts.services.issue_api_token``. Prints one JSON object.
- :func:`fire`, in the runner's process (no Django): every resident POSTs
  ``/api/activities/<id>/signups`` once with their bearer token, from a pool
  of client threads released together on a barrier, each POST on a
  connection of its own. Nothing is retried.
- ``python -m bench.rush verify --activity N``: reads the sign-up rows and the
  activity's counters back from the database. Prints one JSON object.

:func:`judge` then says PASS or FAIL: exactly ``SEATS`` answered 201
confirmed and ``WAITLIST`` 201 waitlisted, everyone else 409 ``full``, no
5xx and no dropped request, the rows and the counters agreeing with each
other and with the answers (the same people confirmed and waitlisted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402

RESIDENTS = 1000
SEATS = 30
WAITLIST = 20
PHONE_PREFIX = "1970000"  # 197 is used by neither the demo street nor synth (wenming/demo/people.py)
TITLE = "重阳节包饺子（报名压测）"
DAYS_AHEAD = 28
BARRIER_TIMEOUT_S = 60.0

# --- Setup and read-back (run with Django, in a subprocess of the runner) -----------------------------


def setup() -> dict[str, Any]:
    """The activity and the residents with their tokens; the demo sub-centre's id for the page benchmarks."""
    from django.db import transaction
    from django.utils import timezone

    from wenming.accounts import services as account_services
    from wenming.accounts.models import Role, RoleGrant, User
    from wenming.activities import services
    from wenming.activities.models import ActivityStatus
    from wenming.demo import street
    from wenming.network.models import Site, SiteLevel

    subcentre = Site.objects.get(code=street.SUBCENTRE_CODE)
    grant = RoleGrant.objects.select_related("user").filter(role=Role.SUBCENTRE_ADMIN, site=subcentre).first()
    if grant is None:
        raise SystemExit("the demo sub-centre has no administrator: is the demo street loaded?")
    admin = grant.user
    station = (
        Site.objects.filter(path__startswith=subcentre.path, level=SiteLevel.STATION, is_active=True)
        .order_by("code")
        .first()
    )
    if station is None:
        raise SystemExit("the demo sub-centre has no station")
    phones = [f"{PHONE_PREFIX}{i:04d}" for i in range(RESIDENTS)]
    if User.objects.filter(phone__in=phones).exists():
        raise SystemExit(f"phones {PHONE_PREFIX}xxxx are taken: run the rush on a fresh database")

    day = timezone.localdate() + dt.timedelta(days=DAYS_AHEAD)
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(14, 0)))
    activity = services.create_activity(
        actor=admin,
        site=subcentre,
        title=TITLE,
        platform="culture",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        seats=SEATS,
        waitlist_limit=WAITLIST,
    )
    activity = services.submit_activity(actor=admin, activity=activity)  # an administrator publishes at once
    if activity.status != ActivityStatus.PUBLISHED:
        raise SystemExit(f"the rush activity is {activity.status}, not published")

    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(phone=phone, name=f"压测居民{i:04d}", home_site=station) for i, phone in enumerate(phones)]
        )
        RoleGrant.objects.bulk_create([RoleGrant(user=u, role=Role.RESIDENT, site=station) for u in users])
        residents = [{"user_id": u.pk, "token": account_services.issue_api_token(user=u)[0]} for u in users]
    return {"activity_id": activity.pk, "subcentre_id": subcentre.pk, "residents": residents}


def read_back(activity_id: int) -> dict[str, Any]:
    """What the database holds after the rush: the rows by status (user ids) and the counters."""
    from wenming.activities.models import Activity, Signup

    activity = Activity.objects.get(pk=activity_id)
    by_status: dict[str, list[int]] = {}
    for status, user_id in Signup.objects.filter(activity=activity).values_list("status", "user_id"):
        by_status.setdefault(status, []).append(user_id)
    return {
        "seats": activity.seats,
        "waitlist_limit": activity.waitlist_limit,
        "confirmed_count": activity.confirmed_count,
        "waitlist_count": activity.waitlist_count,
        "rows": by_status,
    }


# --- The rush itself (the runner's process, plain HTTP) -------------------------------------------------


@dataclass
class Answer:
    user_id: int
    status: int
    outcome: str  # a 201's sign-up status, an error's code, or what went wrong
    ms: float


@dataclass
class RushResult:
    clients: int
    seconds: float = 0.0
    answers: list[Answer] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return load.percentile([a.ms for a in self.answers], q)

    def tally(self) -> Counter[tuple[int, str]]:
        return Counter((a.status, a.outcome) for a in self.answers)

    def users_with(self, status: int, outcome: str) -> set[int]:
        return {a.user_id for a in self.answers if (a.status, a.outcome) == (status, outcome)}


def _outcome(status: int, body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:80].decode(errors="replace")
    if not isinstance(data, dict):
        return "?"
    return str(data.get("status" if status == 201 else "code", "?"))


def warm_up(port: int, activity_id: int, tokens: list[str], *, clients: int) -> None:
    """Signed-in reads of the activity from every server thread: routes, token look-ups, DB connections."""
    path = f"/api/activities/{activity_id}"

    def reads(batch: list[str]) -> None:
        for token in batch:
            load.probe(port, path, headers={"Authorization": f"Bearer {token}"})

    batches = [tokens[i::clients] for i in range(clients)]
    threads = [threading.Thread(target=reads, args=(b,), daemon=True) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def fire(port: int, activity_id: int, residents: list[dict[str, Any]], *, clients: int) -> RushResult:
    """Every resident signs up once; ``clients`` threads start together and share the crowd."""
    path = f"/api/activities/{activity_id}/signups"
    clients = max(1, min(clients, len(residents)))
    barrier = threading.Barrier(clients)
    lock = threading.Lock()
    result = RushResult(clients=clients)
    spans: list[tuple[float, float]] = []

    def client(batch: list[dict[str, Any]]) -> None:
        answers: list[Answer] = []
        barrier.wait(timeout=BARRIER_TIMEOUT_S)
        first = time.perf_counter()
        for resident in batch:
            began = time.perf_counter()
            status, body = load.post_once(
                port,
                path,
                b"{}",
                {"Authorization": f"Bearer {resident['token']}", "Content-Type": "application/json"},
            )
            outcome = _outcome(status, body) if status else body[:80].decode(errors="replace")
            answers.append(Answer(resident["user_id"], status, outcome, (time.perf_counter() - began) * 1000))
        last = time.perf_counter()
        with lock:
            result.answers.extend(answers)
            spans.append((first, last))

    batches = [residents[i::clients] for i in range(clients)]
    threads = [threading.Thread(target=client, args=(b,), daemon=True) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BARRIER_TIMEOUT_S + len(batches[0]) * load.POST_TIMEOUT_S)
    if spans:
        result.seconds = max(end for _start, end in spans) - min(start for start, _end in spans)
    return result


# --- The verdict -------------------------------------------------------------------------------------------


def judge(result: RushResult, expected: int, database: dict[str, Any]) -> list[str]:
    """Everything that is wrong with the rush; an empty list is a PASS."""
    wrong: list[str] = []
    tally = result.tally()
    full = expected - SEATS - WAITLIST
    if len(result.answers) != expected:
        wrong.append(f"{len(result.answers)} answers for {expected} sign-ups")
    for key, want in (((201, "confirmed"), SEATS), ((201, "waitlisted"), WAITLIST), ((409, "full"), full)):
        if tally[key] != want:
            wrong.append(f"{tally[key]} × {key[0]} {key[1]}, expected {want}")
    failed = sum(n for (status, _outcome), n in tally.items() if status >= 500 or status == 0)
    if failed:
        wrong.append(f"{failed} answered 5xx or not at all")
    other = {k: n for k, n in tally.items() if k not in {(201, "confirmed"), (201, "waitlisted"), (409, "full")}}
    if other:
        wrong.append("unexpected answers: " + ", ".join(f"{s} {o}×{n}" for (s, o), n in sorted(other.items())))
    rows: dict[str, list[int]] = database["rows"]
    counts = {status: len(users) for status, users in rows.items()}
    if counts != {"confirmed": SEATS, "waitlisted": WAITLIST}:
        wrong.append(f"rows by status {counts}, expected confirmed {SEATS}, waitlisted {WAITLIST}")
    counters = (database["confirmed_count"], database["waitlist_count"])
    if counters != (len(rows.get("confirmed", [])), len(rows.get("waitlisted", []))):
        wrong.append(f"counters {counters} differ from the rows {counts}")
    everyone = [u for users in rows.values() for u in users]
    if len(everyone) != len(set(everyone)):
        wrong.append("someone holds two sign-ups")
    if set(rows.get("confirmed", [])) != result.users_with(201, "confirmed"):
        wrong.append("the confirmed rows are not the people told 'confirmed'")
    if set(rows.get("waitlisted", [])) != result.users_with(201, "waitlisted"):
        wrong.append("the waitlisted rows are not the people told 'waitlisted'")
    return wrong


def summary(result: RushResult) -> str:
    tally = result.tally()
    return ", ".join(f"{status} {outcome}×{n}" for (status, outcome), n in sorted(tally.items()))


# --- Entry point (setup and verify) -------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="The sign-up rush's setup and read-back (see bench/rush.py).")
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("setup", help="create the activity and the residents with tokens; print JSON")
    verify = steps.add_parser("verify", help="read the rows and counters back; print JSON")
    verify.add_argument("--activity", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    import django

    django.setup()
    out = setup() if args.step == "setup" else read_back(args.activity)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
