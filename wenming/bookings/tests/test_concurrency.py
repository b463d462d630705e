"""Contested slots, with real threads: whatever the timing, no two holding bookings of a venue overlap.

Forty threads, each with its own database connection, line up on a barrier
and go at once: forty residents asking for overlapping slots of one venue
that needs no approval (through the API), forty approvals of overlapping
pending requests (through the service), and both at once. The database
decides: on PostgreSQL the exclusion constraint ``booking_no_overlap``
refuses the loser's write, on SQLite the IMMEDIATE transaction serialises
the check and the write. Afterwards, asked in SQL, no two holding bookings
overlap; every refused request got a Conflict naming a holding booking that
really overlaps it; every request that was not refused holds its slot;
nothing else went wrong. Runs on SQLite and on PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from conftest import People
from wenming.accounts.services import issue_api_token
from wenming.bookings import services
from wenming.bookings.models import HOLDING_STATUSES, Booking, BookingStatus, StatusChange
from wenming.bookings.tests.conftest import WEDNESDAY, at, set_rules
from wenming.core.errors import Conflict
from wenming.notices.models import Message

THREADS = 40
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clock"), pytest.mark.slow]


def _race(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run every call at once, one thread and one connection each: ("ok", result), ("conflict", exc) or ("error", …)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("error", "did not run")] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = ("ok", call())
        except Conflict as exc:
            results[index] = ("conflict", exc)
        except Exception as exc:  # any other failure is a result to report, never a lost thread
            results[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def _slots(n: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """Overlapping slots from 09:00: every half hour, an hour or an hour and a half long."""
    slots = []
    for i in range(n):
        start = at(WEDNESDAY, 9) + dt.timedelta(minutes=30 * (i % 16))
        slots.append((start, start + dt.timedelta(minutes=90 if i % 3 == 0 else 60)))
    return slots


def _overlapping_pairs_in_sql() -> list[tuple[int, int]]:
    holding = tuple(str(s) for s in HOLDING_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, b.id FROM bookings_booking a
            JOIN bookings_booking b
              ON a.venue_id = b.venue_id AND a.id < b.id
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
            WHERE a.status IN (%s, %s) AND b.status IN (%s, %s)
            """,
            [*holding, *holding],
        )
        return [tuple(row) for row in cursor.fetchall()]


def _holders(venue: Any) -> list[Booking]:
    return list(Booking.objects.filter(venue=venue, status__in=HOLDING_STATUSES).order_by("starts_at"))


def _overlaps(a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _check_outcome(venue: Any, wanted: list[tuple[dt.datetime, dt.datetime]], refused: list[tuple[int, int]]) -> None:
    """No overlap in the database; each refusal (index, conflict id) names a holder that overlaps its slot."""
    assert _overlapping_pairs_in_sql() == []
    holders = {b.pk: (b.starts_at, b.ends_at) for b in _holders(venue)}
    assert holders, "somebody must have won"
    for index, conflict_id in refused:
        assert conflict_id in holders, f"refusal {index} names {conflict_id}, which does not hold the venue"
        assert _overlaps(holders[conflict_id], wanted[index])
        # …and a refusal was deserved: its slot overlaps a holder.
        assert any(_overlaps(span, wanted[index]) for span in holders.values())


def test_forty_residents_ask_for_overlapping_slots_at_once(people: People, open_hall: Any) -> None:
    token = issue_api_token(user=people.resident_a)[0]
    slots = _slots(THREADS)

    def ask(start: dt.datetime, end: dt.datetime) -> Callable[[], Any]:
        def call() -> Any:
            response = Client(raise_request_exception=False).post(
                f"/api/venues/{open_hall.pk}/bookings",
                {"starts_at": start.isoformat(), "ends_at": end.isoformat(), "purpose": "排练", "attendees": 5},
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            return response.status_code, response.json()

        return call

    results = _race([ask(*slot) for slot in slots])
    assert {kind for kind, _ in results} == {"ok"}, [r for r in results if r[0] != "ok"]
    answers = [value for _kind, value in results]
    assert {status for status, _ in answers} == {201, 409}, answers
    won = [body for status, body in answers if status == 201]
    lost = [(i, body) for i, (status, body) in enumerate(answers) if status == 409]
    assert {body["code"] for _i, body in lost} == {"slot_taken"}
    assert all(body["status"] == "approved" for body in won)
    _check_outcome(open_hall, slots, [(i, body["conflict"]["id"]) for i, body in lost])
    assert sorted(b["id"] for b in won) == sorted(b.pk for b in _holders(open_hall))
    assert Booking.objects.count() == len(won), "a refused request left a row behind"
    assert StatusChange.objects.count() == len(won)
    assert Message.objects.filter(kind="booking_approved").count() == len(won)


def test_forty_approvals_of_overlapping_requests_at_once(people: People, hall: Any) -> None:
    slots = _slots(THREADS)
    pending = [
        Booking.objects.create(
            venue=hall,
            requester=people.resident_a if i % 2 else people.resident_b,
            purpose="排练",
            starts_at=start,
            ends_at=end,
            status=BookingStatus.PENDING,
        )
        for i, (start, end) in enumerate(slots)
    ]
    deciders = [people.manager_a, people.subcentre_admin, people.admin]

    def approve(index: int) -> Callable[[], Any]:
        return lambda: services.approve_booking(actor=deciders[index % 3], booking=pending[index])

    results = _race([approve(i) for i in range(THREADS)])
    assert {kind for kind, _ in results} <= {"ok", "conflict"}, [r for r in results if r[0] == "error"]
    lost = [(i, exc) for i, (kind, exc) in enumerate(results) if kind == "conflict"]
    assert {exc.code for _i, exc in lost} == {"slot_taken"}
    _check_outcome(hall, slots, [(i, exc.extra["conflict_id"]) for i, exc in lost])
    won = {pending[i].pk for i, (kind, _) in enumerate(results) if kind == "ok"}
    assert won == {b.pk for b in _holders(hall)}
    # The losers are still pending, with nothing recorded but their request.
    for i, _exc in lost:
        assert Booking.objects.get(pk=pending[i].pk).status == BookingStatus.PENDING
        assert not StatusChange.objects.filter(booking_id=pending[i].pk).exists()
    assert StatusChange.objects.filter(to_status=BookingStatus.APPROVED).count() == len(won)


def test_requests_and_approvals_race_each_other(people: People, hall: Any) -> None:
    set_rules(hall, needs_approval=False)
    slots = _slots(THREADS)
    pending = {
        i: Booking.objects.create(
            venue=hall,
            requester=people.resident_b,
            purpose="排练",
            starts_at=s,
            ends_at=e,
            status=BookingStatus.PENDING,
        )
        for i, (s, e) in enumerate(slots)
        if i % 2
    }

    def call(index: int) -> Callable[[], Any]:
        if index in pending:
            return lambda: services.approve_booking(actor=people.manager_a, booking=pending[index])
        start, end = slots[index]
        return lambda: services.request_booking(
            actor=people.resident_a, venue=hall, starts_at=start, ends_at=end, purpose="排练"
        )

    results = _race([call(i) for i in range(THREADS)])
    assert {kind for kind, _ in results} <= {"ok", "conflict"}, [r for r in results if r[0] == "error"]
    lost = [(i, exc) for i, (kind, exc) in enumerate(results) if kind == "conflict"]
    assert {exc.code for _i, exc in lost} == {"slot_taken"}
    _check_outcome(hall, slots, [(i, exc.extra["conflict_id"]) for i, exc in lost])
    assert len(_holders(hall)) == THREADS - len(lost)


def test_the_exclusion_constraint_decides_what_the_check_could_not_see(
    people: People, open_hall: Any, postgres_only: None
) -> None:
    """PostgreSQL: a holder written without taking the venue's turn, still uncommitted when the check runs.

    Another connection inserts an approved booking and keeps its
    transaction open; the service's check cannot see it, its insert waits
    on it, and when the other transaction commits the exclusion constraint
    refuses the insert. The refusal is the ordinary ``slot_taken``, naming
    the booking that won.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        service_pid = cursor.fetchone()[0]
    inserted = threading.Event()
    outcome: dict[str, Any] = {}

    def other_writer() -> None:
        try:
            with transaction.atomic():
                outcome["winner"] = Booking.objects.create(
                    venue=open_hall,
                    requester=people.resident_b,
                    purpose="抢先",
                    starts_at=at(WEDNESDAY, 15),
                    ends_at=at(WEDNESDAY, 17),
                    status=BookingStatus.APPROVED,
                )
                inserted.set()
                # Commit only once the service's insert is waiting on this transaction.
                with connection.cursor() as cursor:
                    for _ in range(600):
                        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [service_pid])
                        row = cursor.fetchone()
                        if row and row[0] == "Lock":
                            outcome["waited"] = True
                            break
                        time.sleep(0.05)
        except Exception as exc:
            outcome["error"] = repr(exc)
            inserted.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert inserted.wait(timeout=30)
    with pytest.raises(Conflict) as caught:
        services.request_booking(
            actor=people.resident_a,
            venue=open_hall,
            starts_at=at(WEDNESDAY, 14),
            ends_at=at(WEDNESDAY, 16),
            purpose="排练",
        )
    thread.join(timeout=60)
    assert "error" not in outcome, outcome
    assert outcome.get("waited"), "the service's insert never waited on the other transaction"
    assert caught.value.code == "slot_taken"
    assert caught.value.extra["conflict_id"] == outcome["winner"].pk
    assert list(Booking.objects.values_list("purpose", flat=True)) == ["抢先"]
