"""The activity workflow as data: draft → submitted → published → completed, cancel and return.

张站长 (甲站) writes and submits; 周主任 (the sub-centre above) approves or
returns with a reason; a station with a publishing rule publishes on
submit. Every move the table does not allow is refused with its code and
leaves the activity, its history and its venue as they were. Every move
writes a ``StatusChange`` row (who, from, to, note).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from wenming.activities import services
from wenming.activities.models import TRANSITIONS, Activity, ActivityStatus, PublishingRule, StatusChange
from wenming.bookings.models import Booking, BookingStatus
from wenming.core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from wenming.network.models import Venue

pytestmark = pytest.mark.django_db


def history(activity: Activity) -> list[tuple[str, str, str | None, str]]:
    return [
        (c.from_status, c.to_status, c.actor.name if c.actor else None, c.note)
        for c in StatusChange.objects.filter(activity=activity).select_related("actor").order_by("at", "id")
    ]


def snapshot(activity: Activity) -> tuple[Any, ...]:
    """Everything a refused move must leave alone, read back from the database."""
    row = Activity.objects.values("status", "published_at", "cancel_reason", "venue_id").get(pk=activity.pk)
    bookings = list(Booking.objects.filter(activity=activity).values_list("status", "starts_at", "ends_at"))
    return row, history(activity), bookings


# --- The happy paths ------------------------------------------------------------------------------


def test_station_submits_and_subcentre_approves(
    people: Any, street: Any, make_activity: Any, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    activity = make_activity(status="draft")
    assert activity.status == ActivityStatus.DRAFT
    assert activity.published_at is None

    with django_capture_on_commit_callbacks(execute=True):
        services.submit_activity(actor=people.manager_a, activity=activity)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.SUBMITTED
    assert activity.published_at is None
    # The sub-centre admin above 甲站 is asked to review; the other station's manager is not.
    assert [kind for kind, _title in inbox(people.subcentre_admin)] == ["activity_submitted"]
    assert inbox(people.manager_b) == []

    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_activity(actor=people.subcentre_admin, activity=activity, note="内容很好")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    assert activity.published_at is not None
    assert before <= activity.published_at <= timezone.now()
    assert [kind for kind, _title in inbox(people.manager_a)] == ["activity_reviewed"]

    assert history(activity) == [
        ("", "draft", "张站长", ""),
        ("draft", "submitted", "张站长", ""),
        ("submitted", "published", "周主任", "内容很好"),
    ]


def test_return_with_a_reason_goes_back_to_draft(
    people: Any, make_activity: Any, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    activity = make_activity(status="submitted")
    with django_capture_on_commit_callbacks(execute=True):
        services.return_activity(actor=people.subcentre_admin, activity=activity, note="请补充活动地点")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DRAFT
    assert activity.published_at is None
    assert history(activity)[-1] == ("submitted", "draft", "周主任", "请补充活动地点")
    assert inbox(people.manager_a) == [("activity_reviewed", "活动被退回修改")]

    # Fixed and submitted again, it goes through.
    services.update_activity(actor=people.manager_a, activity=activity, location="居委会三楼会议室")
    services.submit_activity(actor=people.manager_a, activity=activity)
    services.approve_activity(actor=people.subcentre_admin, activity=activity)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    assert [to for _from, to, _who, _note in history(activity)] == [
        "draft",
        "submitted",
        "draft",
        "submitted",
        "published",
    ]


def test_a_station_with_a_publishing_rule_publishes_on_submit(people: Any, street: Any, make_activity: Any) -> None:
    with pytest.raises(NotAllowed):
        services.set_publishing_rule(actor=people.manager_a, site=street.station_a, publish_directly=True)
    assert not PublishingRule.objects.exists()
    services.set_publishing_rule(actor=people.subcentre_admin, site=street.station_a, publish_directly=True)

    activity = make_activity(status="draft")
    services.submit_activity(actor=people.manager_a, activity=activity)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    assert activity.published_at is not None
    assert history(activity)[-1] == ("draft", "published", "张站长", "")

    # The rule is 甲站's: 乙站 still goes through review.
    other = make_activity(site=street.station_b, status="draft")
    services.submit_activity(actor=people.manager_b, activity=other)
    assert Activity.objects.get(pk=other.pk).status == ActivityStatus.SUBMITTED

    # Switched off again, 甲站 is reviewed again.
    services.set_publishing_rule(actor=people.subcentre_admin, site=street.station_a, publish_directly=False)
    third = make_activity(status="draft")
    services.submit_activity(actor=people.manager_a, activity=third)
    assert Activity.objects.get(pk=third.pk).status == ActivityStatus.SUBMITTED


def test_a_stations_rule_covers_its_points(people: Any, street: Any, make_activity: Any) -> None:
    """甲站一号楼实践点 is run by 甲站: when 甲站 publishes without review, so do its points."""
    services.set_publishing_rule(actor=people.subcentre_admin, site=street.station_a, publish_directly=True)
    activity = make_activity(site=street.point_a, status="draft")
    services.submit_activity(actor=people.manager_a, activity=activity)
    assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.PUBLISHED
    # A rule on the point itself wins over the station's.
    services.set_publishing_rule(actor=people.subcentre_admin, site=street.point_a, publish_directly=False)
    second = make_activity(site=street.point_a, status="draft")
    services.submit_activity(actor=people.manager_a, activity=second)
    assert Activity.objects.get(pk=second.pk).status == ActivityStatus.SUBMITTED


def test_an_approver_submitting_publishes_at_once(people: Any, street: Any, make_activity: Any) -> None:
    activity = make_activity(status="draft", actor=people.subcentre_admin)
    services.submit_activity(actor=people.subcentre_admin, activity=activity)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    assert history(activity)[-1] == ("draft", "published", "周主任", "")


def test_complete_after_the_end_and_complete_ended(people: Any, make_activity: Any, when: Any) -> None:
    first = make_activity()
    second = make_activity(starts_at=when(6, "09:00"), ends_at=when(6, "10:00"))
    with pytest.raises(Invalid) as refused:
        services.complete_activity(actor=people.manager_a, activity=first, now=first.ends_at - dt.timedelta(minutes=1))
    assert refused.value.code == "not_ended"
    assert Activity.objects.get(pk=first.pk).status == ActivityStatus.PUBLISHED

    # The background task completes what has ended by then, and only that.
    assert services.complete_ended(now=first.ends_at) == 1
    assert Activity.objects.get(pk=first.pk).status == ActivityStatus.COMPLETED
    assert Activity.objects.get(pk=second.pk).status == ActivityStatus.PUBLISHED
    assert history(first)[-1] == ("published", "completed", None, "")
    assert services.complete_ended(now=first.ends_at) == 0


def test_the_transition_table_is_the_one_documented() -> None:
    assert set(TRANSITIONS) == {
        ("draft", "submitted"),
        ("draft", "published"),
        ("submitted", "published"),
        ("submitted", "draft"),
        ("draft", "cancelled"),
        ("submitted", "cancelled"),
        ("published", "cancelled"),
        ("published", "completed"),
    }


# --- Refused moves ---------------------------------------------------------------------------------

# (status the activity is in, persona, the move, expected error class, expected code)
REFUSED: list[tuple[str, str, str, type[DomainError], str]] = [
    ("draft", "subcentre_admin", "approve", Conflict, "invalid_transition"),
    ("published", "subcentre_admin", "approve", Conflict, "invalid_transition"),
    ("cancelled", "subcentre_admin", "approve", Conflict, "invalid_transition"),
    ("completed", "subcentre_admin", "approve", Conflict, "invalid_transition"),
    ("draft", "subcentre_admin", "return", Conflict, "invalid_transition"),
    ("published", "subcentre_admin", "return", Conflict, "invalid_transition"),
    ("submitted", "manager_a", "submit", Conflict, "invalid_transition"),
    ("published", "manager_a", "submit", Conflict, "invalid_transition"),
    ("cancelled", "manager_a", "submit", Conflict, "invalid_transition"),
    ("completed", "manager_a", "cancel", Conflict, "invalid_transition"),
    ("cancelled", "manager_a", "cancel", Conflict, "invalid_transition"),
    ("draft", "manager_a", "complete", Conflict, "invalid_transition"),
    ("submitted", "manager_a", "complete", Conflict, "invalid_transition"),
    ("cancelled", "manager_a", "complete", Conflict, "invalid_transition"),
    # A station manager may not review their own station's work.
    ("submitted", "manager_a", "approve", NotAllowed, "approval_required"),
    ("submitted", "manager_a", "return", NotAllowed, "approval_required"),
    # Another station's manager, a resident, a volunteer: the activity does not exist for them.
    ("submitted", "manager_b", "approve", NotFound, "not_found"),
    ("submitted", "manager_b", "return", NotFound, "not_found"),
    ("draft", "manager_b", "submit", NotFound, "not_found"),
    ("published", "manager_b", "cancel", NotFound, "not_found"),
    ("published", "manager_b", "complete", NotFound, "not_found"),
    ("submitted", "manager_c", "approve", NotFound, "not_found"),
    ("draft", "resident_a", "submit", NotFound, "not_found"),
    ("published", "volunteer_a", "cancel", NotFound, "not_found"),
    # A return and a cancellation need their reason.
    ("submitted", "subcentre_admin", "return_without_note", Invalid, "note_required"),
    ("published", "manager_a", "cancel_without_reason", Invalid, "reason_required"),
]


def _do(move: str, actor: Any, activity: Activity) -> None:
    late = activity.ends_at + dt.timedelta(hours=1)
    moves = {
        "submit": lambda: services.submit_activity(actor=actor, activity=activity),
        "approve": lambda: services.approve_activity(actor=actor, activity=activity),
        "return": lambda: services.return_activity(actor=actor, activity=activity, note="请修改"),
        "return_without_note": lambda: services.return_activity(actor=actor, activity=activity, note="  "),
        "cancel": lambda: services.cancel_activity(actor=actor, activity=activity, reason="场地维修"),
        "cancel_without_reason": lambda: services.cancel_activity(actor=actor, activity=activity, reason=""),
        "complete": lambda: services.complete_activity(actor=actor, activity=activity, now=late),
    }
    moves[move]()


@pytest.mark.parametrize(("status", "persona", "move", "error", "code"), REFUSED)
def test_refused_moves_change_nothing(
    status: str,
    persona: str,
    move: str,
    error: type[DomainError],
    code: str,
    people: Any,
    make_activity: Any,
    inbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    activity = make_activity(status=status)
    before = snapshot(activity)
    actor = getattr(people, persona)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(error) as refused:
        _do(move, actor, Activity.objects.select_related("site").get(pk=activity.pk))
    assert refused.value.code == code
    assert refused.value.status == {Conflict: 409, NotAllowed: 403, NotFound: 404, Invalid: 400}[error]
    assert snapshot(activity) == before
    assert inbox(people.manager_a) == []


def test_a_stale_object_cannot_move_twice(people: Any, make_activity: Any) -> None:
    """Two reviewers holding the same submitted activity: the second move finds it moved."""
    activity = make_activity(status="submitted")
    copy = Activity.objects.select_related("site").get(pk=activity.pk)
    services.approve_activity(actor=people.subcentre_admin, activity=activity)
    with pytest.raises(Conflict) as refused:
        services.return_activity(actor=people.admin, activity=copy, note="再看看")
    assert refused.value.code == "stale"
    assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.PUBLISHED
    assert len(history(activity)) == 3


# --- Cancelling tells everyone signed up -----------------------------------------------------------


def test_cancel_notifies_everyone_signed_up(
    people: Any,
    chen: Any,
    make_activity: Any,
    make_resident: Any,
    inbox: Any,
    when: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    activity = make_activity(seats=1, waitlist_limit=2, posts=[{"name": "引导员", "headcount": 2}])
    now = when(0, "10:00")
    waiting = make_resident("候补的人")
    gone = make_resident("取消了的人")
    services.sign_up(actor=people.resident_a, activity=activity, now=now)
    services.sign_up(actor=waiting, activity=activity, now=now)
    mine = services.sign_up(actor=gone, activity=activity, now=now)
    services.cancel_signup(actor=gone, signup=mine, now=now)
    services.sign_up(actor=people.volunteer_a, activity=activity, post=activity.posts.get(), now=now)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_activity(actor=people.manager_a, activity=activity, reason="台风预警")

    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CANCELLED
    assert activity.cancel_reason == "台风预警"
    assert history(activity)[-1] == ("published", "cancelled", "张站长", "台风预警")
    from wenming.notices.models import Message

    told = Message.objects.filter(kind="activity_cancelled")
    assert sorted(told.values_list("recipient__name", flat=True)) == sorted(["王阿姨", "候补的人", "小陈"])
    for message in told:
        assert "台风预警" in message.body
        assert activity.title in message.body
        assert message.link == f"/activities/{activity.pk}/"
    assert inbox(gone) == []


def test_a_refused_cancellation_tells_nobody(
    people: Any, make_activity: Any, inbox: Any, when: Any, django_capture_on_commit_callbacks: Any
) -> None:
    activity = make_activity()
    services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "10:00"))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotFound):
        services.cancel_activity(actor=people.manager_b, activity=activity, reason="测试")
    assert [k for k, _t in inbox(people.resident_a) if k == "activity_cancelled"] == []


# --- The venue hold -----------------------------------------------------------------------------


@pytest.fixture
def hall(street: Any) -> Venue:
    return Venue.objects.create(site=street.station_a, name="多功能活动室", area_m2=80, capacity=40)


def test_publishing_holds_the_venue_and_cancelling_frees_it(people: Any, make_activity: Any, hall: Venue) -> None:
    activity = make_activity(status="submitted", venue=hall)
    assert not Booking.objects.filter(activity=activity).exists()
    services.approve_activity(actor=people.subcentre_admin, activity=activity)
    booking = Booking.objects.get(activity=activity)
    assert booking.status == BookingStatus.APPROVED
    assert (booking.venue, booking.starts_at, booking.ends_at) == (hall, activity.starts_at, activity.ends_at)

    services.cancel_activity(actor=people.manager_a, activity=activity, reason="改期")
    assert Booking.objects.get(activity=activity).status == BookingStatus.CANCELLED


def test_moving_a_published_activity_moves_its_hold(people: Any, make_activity: Any, hall: Venue, when: Any) -> None:
    activity = make_activity(venue=hall)
    services.update_activity(
        actor=people.manager_a, activity=activity, starts_at=when(6, "14:00"), ends_at=when(6, "16:00")
    )
    booking = Booking.objects.get(activity=activity)
    assert booking.status == BookingStatus.APPROVED
    assert (booking.starts_at, booking.ends_at) == (when(6, "14:00"), when(6, "16:00"))


def test_dropping_the_venue_frees_it(people: Any, make_activity: Any, hall: Venue) -> None:
    activity = make_activity(venue=hall)
    services.update_activity(actor=people.manager_a, activity=activity, venue=None, location="小区广场")
    assert Booking.objects.get(activity=activity).status == BookingStatus.CANCELLED
    assert Activity.objects.get(pk=activity.pk).venue is None


def test_moving_into_a_taken_slot_changes_nothing(people: Any, make_activity: Any, hall: Venue, when: Any) -> None:
    make_activity(venue=hall, title="书法讲座")
    later = make_activity(venue=hall, starts_at=when(5, "14:00"), ends_at=when(5, "16:00"))
    before = snapshot(later)
    row = Activity.objects.values().get(pk=later.pk)
    with pytest.raises(Conflict) as refused:
        services.update_activity(
            actor=people.manager_a,
            activity=Activity.objects.get(pk=later.pk),
            starts_at=when(5, "10:00"),
            ends_at=when(5, "12:00"),
        )
    assert refused.value.code == "venue_taken"
    assert snapshot(later) == before
    assert Activity.objects.values().get(pk=later.pk) == row


def test_a_taken_venue_refuses_the_approval_and_changes_nothing(
    people: Any, make_activity: Any, hall: Venue, when: Any
) -> None:
    make_activity(venue=hall, title="书法讲座")
    clash = make_activity(status="submitted", venue=hall, starts_at=when(5, "10:00"), ends_at=when(5, "12:00"))
    before = snapshot(clash)
    with pytest.raises(Conflict) as refused:
        services.approve_activity(actor=people.subcentre_admin, activity=clash)
    assert refused.value.code == "venue_taken"
    assert snapshot(clash) == before
    assert Booking.objects.filter(venue=hall, status=BookingStatus.APPROVED).count() == 1
