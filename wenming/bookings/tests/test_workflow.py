"""The booking workflow: approve, reject, cancel, check in, release no-shows; history and notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import People
from wenming.bookings import services
from wenming.bookings.models import Booking, BookingStatus, StatusChange
from wenming.bookings.tests.conftest import NOW, WEDNESDAY, at, set_rules
from wenming.core.errors import Conflict, Invalid, NotAllowed, NotFound
from wenming.notices.models import Message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def _pending(people: People, venue: Any, start: dt.datetime, end: dt.datetime, actor: Any = None) -> Booking:
    return services.request_booking(
        actor=actor or people.resident_a, venue=venue, starts_at=start, ends_at=end, purpose="合唱队排练", attendees=12
    )


def _history(booking: Booking) -> list[tuple[str, str, int | None]]:
    return list(booking.history.order_by("id").values_list("from_status", "to_status", "actor_id"))


# --- Approve and reject ------------------------------------------------------------------------------


def test_staff_approve_and_the_requester_is_told(
    people: People, hall: Any, django_capture_on_commit_callbacks: Any
) -> None:
    booking = _pending(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_booking(actor=people.manager_a, booking=booking, note="请自带音响")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.APPROVED
    assert (booking.decided_by, booking.decided_at, booking.decision_note) == (people.manager_a, NOW, "请自带音响")
    assert _history(booking) == [("", "pending", people.resident_a.pk), ("pending", "approved", people.manager_a.pk)]
    message = Message.objects.get(recipient=people.resident_a)
    assert (message.kind, message.title, message.link) == ("booking_approved", "场地预约已通过", "/bookings/mine/")
    assert "甲站多功能厅" in message.body
    assert "2026-09-16 14:00–16:00" in message.body


def test_approving_a_request_that_now_overlaps_a_holder_names_it(people: People, hall: Any) -> None:
    first = _pending(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    second = _pending(people, hall, at(WEDNESDAY, 15), at(WEDNESDAY, 17), actor=people.resident_b)
    services.approve_booking(actor=people.manager_a, booking=first)
    with pytest.raises(Conflict) as caught:
        services.approve_booking(actor=people.manager_a, booking=second)
    assert caught.value.code == "slot_taken"
    assert caught.value.extra["conflict_id"] == first.pk
    assert caught.value.extra["conflict_starts_at"] == at(WEDNESDAY, 14)
    second.refresh_from_db()
    assert second.status == BookingStatus.PENDING
    assert _history(second) == [("", "pending", people.resident_b.pk)]


def test_a_decision_is_made_once(people: People, hall: Any) -> None:
    booking = _pending(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    services.approve_booking(actor=people.manager_a, booking=booking)
    for decide in (
        lambda: services.approve_booking(actor=people.subcentre_admin, booking=booking),
        lambda: services.reject_booking(actor=people.subcentre_admin, booking=booking, reason="重复"),
    ):
        with pytest.raises(Conflict) as caught:
            decide()
        assert caught.value.code == "not_pending"
        assert "已通过" in caught.value.message


def test_reject_needs_a_reason_which_the_requester_reads(
    people: People, hall: Any, django_capture_on_commit_callbacks: Any
) -> None:
    booking = _pending(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    for reason in ("", "   ", "理" * 201):
        with pytest.raises(Invalid) as caught:
            services.reject_booking(actor=people.manager_a, booking=booking, reason=reason)
        assert (caught.value.code, caught.value.extra["field"]) == ("invalid_reason", "reason")
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_booking(actor=people.manager_a, booking=booking, reason="当天有消防演练")
    booking.refresh_from_db()
    assert (booking.status, booking.decision_note, booking.decided_by) == (
        BookingStatus.REJECTED,
        "当天有消防演练",
        people.manager_a,
    )
    message = Message.objects.get(recipient=people.resident_a)
    assert message.kind == "booking_rejected"
    assert "当天有消防演练" in message.body


def test_only_staff_of_the_venue_decide(people: People, hall: Any) -> None:
    booking = _pending(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    # The requester sees their booking but may not decide it; other staff do not see it at all.
    with pytest.raises(NotAllowed):
        services.approve_booking(actor=people.resident_a, booking=booking)
    for outsider in (people.manager_b, people.manager_c, people.resident_b, people.volunteer_a):
        with pytest.raises(NotFound):
            services.approve_booking(actor=outsider, booking=booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    for staff in (people.subcentre_admin, people.admin):
        assert (
            services.reject_booking(
                actor=staff, booking=_pending(people, hall, at(WEDNESDAY, 17), at(WEDNESDAY, 18)), reason="不合适"
            ).status
            == BookingStatus.REJECTED
        )


def test_a_request_whose_time_has_passed_is_not_approved(people: People, hall: Any, clock: Any) -> None:
    booking = _pending(people, hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    clock.move_to(at(WEDNESDAY, 14, 5))
    with pytest.raises(Invalid) as caught:
        services.approve_booking(actor=people.manager_a, booking=booking)
    assert caught.value.code == "in_past"


# --- Cancel -------------------------------------------------------------------------------------------


def test_the_requester_cancels_before_the_start_and_the_slot_is_free(people: People, open_hall: Any) -> None:
    booking = _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    assert booking.status == BookingStatus.APPROVED
    services.cancel_booking(actor=people.resident_a, booking=booking, reason="改期")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    assert _history(booking)[-1] == ("approved", "cancelled", people.resident_a.pk)
    again = _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16), actor=people.resident_b)
    assert again.status == BookingStatus.APPROVED


def test_cancel_windows_and_who(
    people: People, open_hall: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    booking = _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    with pytest.raises(NotFound):
        services.cancel_booking(actor=people.resident_b, booking=booking)
    with pytest.raises(NotFound):
        services.cancel_booking(actor=people.manager_b, booking=booking)
    clock.move_to(at(WEDNESDAY, 14, 10))
    with pytest.raises(Conflict) as caught:
        services.cancel_booking(actor=people.resident_a, booking=booking)
    assert caught.value.code == "too_late"
    # Staff may still cancel until the end; the requester is told.
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(actor=people.manager_a, booking=booking, reason="场地漏水")
    assert Message.objects.get(recipient=people.resident_a).kind == "booking_cancelled"
    with pytest.raises(Conflict) as caught:
        services.cancel_booking(actor=people.manager_a, booking=booking)
    assert caught.value.code == "not_cancellable"


# --- Check in and no-shows -----------------------------------------------------------------------------


def test_check_in_from_a_little_before_the_start_until_the_end(people: People, open_hall: Any, clock: Any) -> None:
    booking = _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    clock.move_to(at(WEDNESDAY, 13, 29))
    with pytest.raises(Conflict) as caught:
        services.check_in_booking(actor=people.resident_a, booking=booking)
    assert caught.value.code == "check_in_closed"
    assert "13:30" in caught.value.message
    clock.move_to(at(WEDNESDAY, 13, 30))
    with pytest.raises(NotFound):
        services.check_in_booking(actor=people.resident_b, booking=booking)
    services.check_in_booking(actor=people.resident_a, booking=booking)
    booking.refresh_from_db()
    assert (booking.status, booking.checked_in_at) == (BookingStatus.CHECKED_IN, at(WEDNESDAY, 13, 30))
    with pytest.raises(Conflict) as caught:
        services.check_in_booking(actor=people.manager_a, booking=booking)
    assert caught.value.code == "already_checked_in"


def test_staff_check_in_and_not_after_the_end(people: People, open_hall: Any, clock: Any) -> None:
    booking = _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    clock.move_to(at(WEDNESDAY, 16))
    with pytest.raises(Conflict) as caught:
        services.check_in_booking(actor=people.manager_a, booking=booking)
    assert caught.value.code == "check_in_closed"
    pending = _pending(people, open_hall, at(dt.date(2026, 9, 17), 14), at(dt.date(2026, 9, 17), 15))
    Booking.objects.filter(pk=pending.pk).update(status=BookingStatus.PENDING)
    clock.move_to(at(dt.date(2026, 9, 17), 14))
    with pytest.raises(Conflict) as caught:
        services.check_in_booking(actor=people.manager_a, booking=Booking.objects.get(pk=pending.pk))
    assert caught.value.code == "not_approved"


def test_no_shows_are_released_after_the_grace_with_a_controlled_clock(
    people: People, open_hall: Any, room_b: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    set_rules(room_b, needs_approval=False, no_show_grace_minutes=30)
    late = _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))  # grace 15 minutes (default)
    came = _pending(people, open_hall, at(WEDNESDAY, 16), at(WEDNESDAY, 18))
    patient = _pending(people, room_b, at(WEDNESDAY, 14), at(WEDNESDAY, 16), actor=people.resident_b)
    waiting = _pending(people, open_hall, at(WEDNESDAY, 19), at(WEDNESDAY, 20))
    Booking.objects.filter(pk=waiting.pk).update(status=BookingStatus.PENDING)

    clock.move_to(at(WEDNESDAY, 14, 14))
    assert services.release_no_shows() == 0
    clock.move_to(at(WEDNESDAY, 14, 15))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.release_no_shows() == 1
    assert Booking.objects.get(pk=late.pk).status == BookingStatus.NO_SHOW
    assert Message.objects.get(recipient=people.resident_a).kind == "booking_no_show"
    assert _history(late)[-1] == ("approved", "no_show", None)

    clock.move_to(at(WEDNESDAY, 15, 59))
    services.check_in_booking(actor=people.resident_a, booking=came)
    assert services.release_no_shows(now=at(WEDNESDAY, 16, 20)) == 1  # only room_b's (30 minutes' grace)
    assert Booking.objects.get(pk=patient.pk).status == BookingStatus.NO_SHOW
    assert Booking.objects.get(pk=came.pk).status == BookingStatus.CHECKED_IN
    assert Booking.objects.get(pk=waiting.pk).status == BookingStatus.PENDING
    assert services.release_no_shows(now=at(WEDNESDAY, 23)) == 0  # nothing twice
    assert StatusChange.objects.filter(to_status=BookingStatus.NO_SHOW).count() == 2


def test_the_released_slot_can_be_booked_again(people: People, open_hall: Any, clock: Any) -> None:
    late = _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 17))
    clock.move_to(at(WEDNESDAY, 14, 30))
    assert services.release_no_shows() == 1
    set_rules(open_hall, needs_approval=False, min_hours_ahead=0)
    later = _pending(people, open_hall, at(WEDNESDAY, 15), at(WEDNESDAY, 17), actor=people.resident_b)
    assert later.status == BookingStatus.APPROVED
    assert Booking.objects.get(pk=late.pk).status == BookingStatus.NO_SHOW


def test_the_task_runs_the_release(people: People, open_hall: Any, clock: Any) -> None:
    from wenming.bookings.tasks import release_no_shows_task

    _pending(people, open_hall, at(WEDNESDAY, 14), at(WEDNESDAY, 16))
    clock.move_to(at(WEDNESDAY, 15))
    result = release_no_shows_task.enqueue()  # the test settings run tasks at once
    assert result.return_value == 1
    assert Booking.objects.filter(status=BookingStatus.NO_SHOW).count() == 1
