"""Check-out and the hours ledger; hours corrections.

小陈 (a registered volunteer of 甲站) takes the post 引导员 at a Saturday
activity, 09:00–12:00. Check-out writes exactly one ledger entry
(``source=activity``) for the time between check-in and check-out that
falls within the post's time: arriving early, leaving late or travelling
counts for nothing, and nobody is credited more than the post lasts. A
correction is a request the station manager decides; an approval appends
the difference to the ledger and leaves the original entry alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from wenming.activities import services
from wenming.activities.models import Activity, CorrectionStatus, HoursCorrection, Signup
from wenming.activities.services import Outcome
from wenming.core.errors import Conflict, Invalid, NotFound
from wenming.volunteers.models import ServiceRecord, ServiceSource, Volunteer
from wenming.volunteers.services import total_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(make_activity: Any, when: Any) -> Activity:
    return make_activity(
        title="社区义诊",
        platform="science",
        starts_at=when(5, "09:00"),
        ends_at=when(5, "12:00"),
        posts=[
            {"name": "引导员", "headcount": 2},
            {"name": "测血压", "headcount": 2, "starts_at": when(5, "10:00"), "ends_at": when(5, "11:00")},
        ],
    )


@pytest.fixture
def signup(people: Any, chen: Volunteer, activity: Activity, when: Any) -> Signup:
    """小陈 at the post 引导员 (09:00–12:00)."""
    return services.sign_up(
        actor=people.volunteer_a, activity=activity, post=activity.posts.get(name="引导员"), now=when(0, "09:00")
    )


def check_in(people: Any, signup: Signup, at: dt.datetime) -> None:
    scan = services.check_in(actor=people.manager_a, activity=signup.activity, code=signup.code, now=at)
    assert scan.outcome == Outcome.OK


def check_out(people: Any, signup: Signup, at: dt.datetime) -> services.Scan:
    return services.check_out(actor=people.manager_a, activity=signup.activity, code=signup.code, now=at)


def entries(volunteer: Volunteer) -> list[tuple[str, Decimal]]:
    return list(ServiceRecord.objects.filter(volunteer=volunteer).order_by("id").values_list("source", "hours"))


# --- Check-out --------------------------------------------------------------------------------------


def test_early_arrival_and_late_leaving_do_not_count(
    people: Any, street: Any, chen: Volunteer, signup: Signup, when: Any
) -> None:
    check_in(people, signup, when(5, "08:40"))
    scan = check_out(people, signup, when(5, "12:30"))
    assert scan.outcome == Outcome.OK
    assert scan.hours == Decimal("3.00")
    assert scan.message == "签退成功，记录服务时长3.00小时"
    entry = ServiceRecord.objects.get(volunteer=chen)
    assert entry.source == ServiceSource.ACTIVITY
    assert entry.source_ref == f"signup:{signup.pk}"
    assert entry.hours == Decimal("3.00")
    assert (entry.started_at, entry.ended_at) == (when(5, "09:00"), when(5, "12:00"))
    assert (entry.site, entry.recorder) == (street.station_a, people.manager_a)
    assert "社区义诊" in entry.description
    assert "引导员" in entry.description
    assert Signup.objects.get(pk=signup.pk).checked_out_at == when(5, "12:30")
    assert total_hours(chen) == Decimal("3.00")
    assert services.ledger_entry_for(signup) == entry


@pytest.mark.parametrize(
    ("post", "arrive", "leave", "hours"),
    [
        ("引导员", "09:30", "11:15", "1.75"),
        ("引导员", "09:00", "12:00", "3.00"),
        ("引导员", "08:30", "09:20", "0.33"),
        ("引导员", "11:59", "13:00", "0.01"),  # one minute: rounded down, never more than the clock
        ("测血压", "08:30", "12:00", "1.00"),  # capped by the post's own hour
        ("测血压", "10:20", "10:50", "0.50"),
        ("测血压", "10:30", "12:00", "0.50"),
    ],
)
def test_hours_are_the_overlap_with_the_post(
    post: str, arrive: str, leave: str, hours: str, people: Any, chen: Volunteer, activity: Activity, when: Any
) -> None:
    mine = services.sign_up(
        actor=people.volunteer_a, activity=activity, post=activity.posts.get(name=post), now=when(0, "09:00")
    )
    check_in(people, mine, when(5, arrive))
    scan = check_out(people, mine, when(5, leave))
    assert scan.hours == Decimal(hours)
    assert entries(chen) == [("activity", Decimal(hours))]


def test_no_overlap_no_entry(people: Any, chen: Volunteer, activity: Activity, when: Any) -> None:
    """Checked in and out before the post began: nothing is credited, and nothing written."""
    mine = services.sign_up(
        actor=people.volunteer_a, activity=activity, post=activity.posts.get(name="测血压"), now=when(0, "09:00")
    )
    check_in(people, mine, when(5, "08:40"))
    scan = check_out(people, mine, when(5, "09:50"))
    assert (scan.outcome, scan.hours) == (Outcome.OK, Decimal("0.00"))
    assert entries(chen) == []


def test_checking_out_twice_writes_one_entry(people: Any, chen: Volunteer, signup: Signup, when: Any) -> None:
    check_in(people, signup, when(5, "09:00"))
    assert check_out(people, signup, when(5, "11:00")).outcome == Outcome.OK
    again = check_out(people, signup, when(5, "12:00"))
    assert again.outcome == Outcome.ALREADY
    assert again.message == "已经签退过了"
    by_volunteer = services.check_out(
        actor=people.volunteer_a, signup=Signup.objects.get(pk=signup.pk), now=when(5, "12:00")
    )
    assert by_volunteer.outcome == Outcome.ALREADY
    assert entries(chen) == [("activity", Decimal("2.00"))]
    assert Signup.objects.get(pk=signup.pk).checked_out_at == when(5, "11:00")


def test_not_checked_in(people: Any, chen: Volunteer, signup: Signup, when: Any) -> None:
    scan = check_out(people, signup, when(5, "12:00"))
    assert scan.outcome == Outcome.NOT_CHECKED_IN
    assert scan.message == "尚未签到，不能签退"
    assert entries(chen) == []
    assert Signup.objects.get(pk=signup.pk).checked_out_at is None


def test_residents_and_the_cancelled_do_not_check_out(
    people: Any, chen: Volunteer, activity: Activity, signup: Signup, when: Any
) -> None:
    seat = services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "09:00"))
    check_in(people, seat, when(5, "09:00"))
    assert check_out(people, seat, when(5, "11:00")).outcome == Outcome.INVALID
    assert Signup.objects.get(pk=seat.pk).checked_out_at is None

    check_in(people, signup, when(5, "09:00"))
    services.cancel_activity(actor=people.manager_a, activity=activity, reason="临时取消")
    assert check_out(people, signup, when(5, "10:00")).outcome == Outcome.CANCELLED
    assert entries(chen) == []


def test_the_volunteer_checks_out_themselves(people: Any, chen: Volunteer, signup: Signup, when: Any) -> None:
    check_in(people, signup, when(5, "09:00"))
    with pytest.raises(NotFound):
        services.check_out(actor=people.resident_a, signup=Signup.objects.get(pk=signup.pk), now=when(5, "10:00"))
    scan = services.check_out(actor=people.volunteer_a, signup=Signup.objects.get(pk=signup.pk), now=when(5, "10:30"))
    assert (scan.outcome, scan.hours) == (Outcome.OK, Decimal("1.50"))
    assert ServiceRecord.objects.get(volunteer=chen).recorder == people.volunteer_a


def test_check_out_by_token_and_scope(people: Any, chen: Volunteer, signup: Signup, when: Any) -> None:
    check_in(people, signup, when(5, "09:00"))
    token = services.signup_token(signup)
    with pytest.raises(NotFound):
        services.check_out(actor=people.manager_b, activity=signup.activity, token=token, now=when(5, "10:00"))
    assert services.check_out(actor=people.manager_b, token=token, now=when(5, "10:00")).outcome == Outcome.INVALID
    assert services.check_out(actor=people.manager_a, token="forged:token", now=when(5, "10:00")).outcome == "invalid"
    assert entries(chen) == []
    scan = services.check_out(actor=people.manager_a, token=token, now=when(5, "10:00"))
    assert (scan.outcome, scan.hours) == (Outcome.OK, Decimal("1.00"))


# --- Corrections -------------------------------------------------------------------------------------


@pytest.fixture
def served(people: Any, signup: Signup, when: Any) -> Signup:
    """小陈 checked in at 09:30 and out at 11:30: two hours on the ledger."""
    check_in(people, signup, when(5, "09:30"))
    assert check_out(people, signup, when(5, "11:30")).hours == Decimal("2.00")
    return Signup.objects.select_related("activity__site", "post").get(pk=signup.pk)


def test_a_correction_down_is_a_negative_entry(
    people: Any, chen: Volunteer, served: Signup, inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    original = services.ledger_entry_for(served)
    assert original is not None
    with django_capture_on_commit_callbacks(execute=True):
        correction = services.request_hours_correction(
            actor=people.volunteer_a, signup=served, hours="1.5", reason="中途离开了半小时"
        )
    assert correction.status == CorrectionStatus.PENDING
    assert correction.requested_hours == Decimal("1.50")
    assert ("hours_correction", "有志愿时长更正申请") in inbox(people.manager_a)
    assert inbox(people.manager_b) == []

    with django_capture_on_commit_callbacks(execute=True):
        decided = services.decide_hours_correction(actor=people.manager_a, correction=correction, approve=True)
    assert decided.status == CorrectionStatus.APPROVED
    assert (decided.decided_by, decided.decided_at is not None) == (people.manager_a, True)
    entry = decided.ledger_entry
    assert entry is not None
    assert (entry.source, entry.corrects_id, entry.hours) == ("correction", original.pk, Decimal("-0.50"))
    assert ServiceRecord.objects.get(pk=original.pk).hours == Decimal("2.00")  # untouched
    assert total_hours(chen) == Decimal("1.50")
    assert ("hours_correction_decided", "时长更正申请已通过") in inbox(people.volunteer_a)


def test_a_correction_up_to_the_posts_time(people: Any, chen: Volunteer, served: Signup) -> None:
    """小陈 forgot to scan on arrival at 09:00: he asks for the post's full three hours."""
    original = services.ledger_entry_for(served)
    assert original is not None
    correction = services.request_hours_correction(
        actor=people.volunteer_a, signup=served, hours=3, reason="九点就到岗了，忘记扫码"
    )
    decided = services.decide_hours_correction(actor=people.manager_a, correction=correction, approve=True)
    assert decided.ledger_entry is not None
    assert decided.ledger_entry.hours == Decimal("1.00")
    assert total_hours(chen) == Decimal("3.00")
    assert ServiceRecord.objects.get(pk=original.pk).hours == Decimal("2.00")


def test_a_correction_cannot_exceed_the_posts_time(people: Any, chen: Volunteer, served: Signup) -> None:
    """The post lasted three hours: nobody is credited more, by check-out or by correction."""
    with pytest.raises(Invalid) as refused:
        services.request_hours_correction(actor=people.volunteer_a, signup=served, hours="3.5", reason="多算点")
    assert (refused.value.code, refused.value.extra.get("field")) == ("invalid_hours", "hours")
    assert not HoursCorrection.objects.exists()
    assert total_hours(chen) == Decimal("2.00")


def test_one_pending_correction_at_a_time(people: Any, chen: Volunteer, served: Signup) -> None:
    first = services.request_hours_correction(actor=people.volunteer_a, signup=served, hours=1, reason="早退")
    with pytest.raises(Conflict) as refused:
        services.request_hours_correction(actor=people.volunteer_a, signup=served, hours=1.5, reason="再改")
    assert refused.value.code == "correction_pending"
    assert HoursCorrection.objects.count() == 1

    # Rejecting needs a reason, and then a new request may follow.
    with pytest.raises(Invalid) as no_note:
        services.decide_hours_correction(actor=people.manager_a, correction=first, approve=False, note="  ")
    assert no_note.value.code == "note_required"
    assert HoursCorrection.objects.get(pk=first.pk).status == CorrectionStatus.PENDING
    rejected = services.decide_hours_correction(
        actor=people.manager_a, correction=first, approve=False, note="签到记录无误"
    )
    assert (rejected.status, rejected.decision_note, rejected.ledger_entry) == ("rejected", "签到记录无误", None)
    assert entries(chen) == [("activity", Decimal("2.00"))]
    services.request_hours_correction(actor=people.volunteer_a, signup=served, hours=1.5, reason="再申请一次")
    assert HoursCorrection.objects.filter(status="pending").count() == 1


def test_a_decision_is_made_once(people: Any, chen: Volunteer, served: Signup) -> None:
    correction = services.request_hours_correction(actor=people.volunteer_a, signup=served, hours=1, reason="早退")
    stale = HoursCorrection.objects.get(pk=correction.pk)
    services.decide_hours_correction(actor=people.manager_a, correction=correction, approve=True)
    with pytest.raises(Conflict) as refused:
        services.decide_hours_correction(actor=people.subcentre_admin, correction=stale, approve=False, note="不行")
    assert refused.value.code == "already_decided"
    assert HoursCorrection.objects.get(pk=correction.pk).status == CorrectionStatus.APPROVED
    assert total_hours(chen) == Decimal("1.00")


@pytest.mark.parametrize("persona", ["manager_b", "manager_c", "volunteer_a", "resident_a", "leader_a"])
def test_only_the_activitys_staff_decide(persona: str, people: Any, chen: Volunteer, served: Signup) -> None:
    correction = services.request_hours_correction(actor=people.volunteer_a, signup=served, hours=1, reason="早退")
    with pytest.raises(NotFound):
        services.decide_hours_correction(actor=getattr(people, persona), correction=correction, approve=True)
    assert HoursCorrection.objects.get(pk=correction.pk).status == CorrectionStatus.PENDING
    assert entries(chen) == [("activity", Decimal("2.00"))]


def test_the_subcentre_admin_decides_too(people: Any, chen: Volunteer, served: Signup) -> None:
    correction = services.request_hours_correction(actor=people.volunteer_a, signup=served, hours=1, reason="早退")
    services.decide_hours_correction(actor=people.subcentre_admin, correction=correction, approve=True, note="同意")
    assert total_hours(chen) == Decimal("1.00")


@pytest.mark.parametrize(
    ("hours", "reason", "code"),
    [
        ("abc", "理由", "invalid_hours"),
        ("NaN", "理由", "invalid_hours"),
        ("Infinity", "理由", "invalid_hours"),
        (-1, "理由", "invalid_hours"),
        (24.5, "理由", "invalid_hours"),
        (1, "", "reason_required"),
        (1, "长" * 201, "reason_required"),
    ],
)
def test_invalid_requests(hours: Any, reason: str, code: str, people: Any, chen: Volunteer, served: Signup) -> None:
    with pytest.raises(Invalid) as refused:
        services.request_hours_correction(actor=people.volunteer_a, signup=served, hours=hours, reason=reason)
    assert refused.value.code == code
    assert not HoursCorrection.objects.exists()


def test_only_the_volunteer_asks_and_only_after_check_out(
    people: Any, chen: Volunteer, signup: Signup, when: Any
) -> None:
    with pytest.raises(Invalid) as refused:
        services.request_hours_correction(actor=people.volunteer_a, signup=signup, hours=2, reason="还没签退")
    assert refused.value.code == "not_checked_out"
    check_in(people, signup, when(5, "09:00"))
    check_out(people, signup, when(5, "10:00"))
    fresh = Signup.objects.get(pk=signup.pk)
    for persona in ("manager_a", "resident_a", "manager_b"):
        with pytest.raises(NotFound):
            services.request_hours_correction(actor=getattr(people, persona), signup=fresh, hours=2, reason="代申请")
    assert not HoursCorrection.objects.exists()


def test_approving_when_nothing_was_recorded(people: Any, chen: Volunteer, activity: Activity, when: Any) -> None:
    """Checked out before the post began (nothing on the ledger): an approval records the hours granted."""
    mine = services.sign_up(
        actor=people.volunteer_a, activity=activity, post=activity.posts.get(name="测血压"), now=when(0, "09:00")
    )
    check_in(people, mine, when(5, "09:00"))
    check_out(people, mine, when(5, "09:45"))
    assert entries(chen) == []
    correction = services.request_hours_correction(
        actor=people.volunteer_a, signup=Signup.objects.get(pk=mine.pk), hours=1, reason="误点了签退"
    )
    decided = services.decide_hours_correction(actor=people.manager_a, correction=correction, approve=True)
    assert decided.ledger_entry is not None
    assert entries(chen) == [("activity", Decimal("1.00"))]
    assert decided.ledger_entry.source_ref == f"signup:{mine.pk}"
