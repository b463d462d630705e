"""Check-in at the door: every outcome of a scanned QR, a typed short code and the on-site QR.

The activity: Saturday 09:00–11:00 at 甲站; check-in opens half an hour
before the start and closes at the end. 王阿姨 holds a seat. Every scan
gets a definite answer; only ``ok`` writes anything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing

from conftest import CJK
from wenming.activities import services
from wenming.activities.models import Activity, Signup, SignupStatus
from wenming.activities.services import Outcome
from wenming.core.errors import NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(make_activity: Any) -> Activity:
    return make_activity(seats=3, waitlist_limit=2)


@pytest.fixture
def wang(people: Any, activity: Activity, when: Any) -> Signup:
    """王阿姨's confirmed seat."""
    return services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "09:00"))


def during(activity: Activity) -> dt.datetime:
    return activity.starts_at + dt.timedelta(minutes=10)


def state(signup: Signup) -> tuple[Any, ...]:
    row = Signup.objects.get(pk=signup.pk)
    return row.status, row.checked_in_at, row.checked_in_by_id, row.checked_out_at


def test_ok_then_already(people: Any, activity: Activity, wang: Signup) -> None:
    now = during(activity)
    scan = services.check_in(actor=people.manager_a, activity=activity, token=services.signup_token(wang), now=now)
    assert scan.outcome == Outcome.OK
    assert scan.ok
    assert scan.signup is not None
    assert scan.signup.pk == wang.pk
    assert scan.message == "签到成功"
    assert state(wang) == ("confirmed", now, people.manager_a.pk, None)

    again = services.check_in(
        actor=people.manager_a, activity=activity, token=services.signup_token(wang), now=now + dt.timedelta(minutes=5)
    )
    assert again.outcome == Outcome.ALREADY
    assert CJK.search(again.message)
    assert state(wang) == ("confirmed", now, people.manager_a.pk, None)  # the first time stands


def test_the_window_edges(people: Any, activity: Activity, wang: Signup) -> None:
    token = services.signup_token(wang)
    opens, closes = activity.checkin_opens_at, activity.checkin_closes_at
    assert opens == activity.starts_at - dt.timedelta(minutes=30)
    early = services.check_in(
        actor=people.manager_a, activity=activity, token=token, now=opens - dt.timedelta(seconds=1)
    )
    late = services.check_in(
        actor=people.manager_a, activity=activity, token=token, now=closes + dt.timedelta(seconds=1)
    )
    assert (early.outcome, late.outcome) == (Outcome.NOT_OPEN, Outcome.CLOSED)
    assert early.message == "签到尚未开始"
    assert late.message == "签到已截止"
    assert state(wang)[1] is None
    assert services.check_in(actor=people.manager_a, activity=activity, token=token, now=opens).outcome == Outcome.OK


def test_a_cancelled_sign_up_or_activity(people: Any, activity: Activity, wang: Signup, when: Any) -> None:
    other = services.sign_up(actor=people.resident_b, activity=activity, now=when(0, "09:00"))
    services.cancel_signup(actor=people.resident_b, signup=other, now=when(0, "10:00"))
    scan = services.check_in(actor=people.manager_a, activity=activity, code=other.code, now=during(activity))
    assert scan.outcome == Outcome.CANCELLED
    assert state(other)[1] is None

    services.cancel_activity(actor=people.manager_a, activity=activity, reason="暴雨")
    scan = services.check_in(
        actor=people.manager_a, activity=activity, token=services.signup_token(wang), now=during(activity)
    )
    assert scan.outcome == Outcome.CANCELLED
    assert scan.message == "报名或活动已取消"
    assert state(wang)[1] is None


def test_the_waitlisted_do_not_get_in(people: Any, make_activity: Any, make_resident: Any, when: Any) -> None:
    activity = make_activity(seats=1, waitlist_limit=1)
    services.sign_up(actor=make_resident(), activity=activity, now=when(0, "09:00"))
    waiting = services.sign_up(actor=make_resident(), activity=activity, now=when(0, "09:00"))
    scan = services.check_in(actor=people.manager_a, activity=activity, code=waiting.code, now=during(activity))
    assert scan.outcome == Outcome.WAITLISTED
    assert scan.message == "仍在候补，未获得名额"
    assert state(waiting) == ("waitlisted", None, None, None)


def _tampered(token: str, other_pk: int) -> str:
    """The signature of one sign-up on another sign-up's id."""
    _value, signature = token.rsplit(":", 1)
    return f"{other_pk}:{signature}"


def test_invalid_codes_and_tokens(people: Any, activity: Activity, wang: Signup, make_activity: Any, when: Any) -> None:
    elsewhere = make_activity(title="另一场活动")
    theirs = services.sign_up(actor=people.resident_b, activity=elsewhere, now=when(0, "09:00"))
    mine = services.sign_up(actor=people.liaison_a, activity=activity, now=when(0, "09:00"))
    token = services.signup_token(wang)
    cases = {
        "garbage": {"token": "not-a-token"},
        "unsigned id": {"token": str(wang.pk)},
        "tampered": {"token": _tampered(token, mine.pk)},
        "truncated": {"token": token[:-2]},
        "the on-site token": {"token": services.onsite_token(activity)},
        "another salt": {"token": signing.Signer(salt="wenming.other").sign(str(wang.pk))},
        "another activity's token": {"token": services.signup_token(theirs)},
        "another activity's code": {"code": theirs.code},
        "a code nobody has": {"code": "ZZZZZZ" if "ZZZZZZ" not in (wang.code, mine.code) else "YYYYYY"},
        "a code too long": {"code": wang.code + "XYZ"},
        "nothing": {},
    }
    for name, given in cases.items():
        scan = services.check_in(actor=people.manager_a, activity=activity, now=during(activity), **given)
        assert scan.outcome == Outcome.INVALID, name
        assert scan.message == "无效的签到码"
    assert state(wang)[1] is None
    assert state(mine)[1] is None
    assert state(theirs)[1] is None


def test_a_code_needs_its_activity(people: Any, activity: Activity, wang: Signup) -> None:
    """Short codes are per activity: a code alone names nobody; a token alone does."""
    assert services.check_in(actor=people.manager_a, code=wang.code, now=during(activity)).outcome == Outcome.INVALID
    assert state(wang)[1] is None
    scan = services.check_in(actor=people.manager_a, token=services.signup_token(wang), now=during(activity))
    assert scan.outcome == Outcome.OK


@pytest.mark.parametrize("typed", ["lower", "spaced", "padded"])
def test_short_codes_are_case_insensitive(typed: str, people: Any, activity: Activity, wang: Signup) -> None:
    code = {
        "lower": wang.code.lower(),
        "spaced": f"{wang.code[:3]} {wang.code[3:]}".lower(),
        "padded": f"  {wang.code}  ",
    }[typed]
    scan = services.check_in(actor=people.manager_a, activity=activity, code=code, now=during(activity))
    assert scan.outcome == Outcome.OK
    assert state(wang)[1] == during(activity)


def test_codes_use_an_unambiguous_alphabet(people: Any, make_activity: Any, make_resident: Any, when: Any) -> None:
    activity = make_activity(seats=30)
    codes = [services.sign_up(actor=make_resident(), activity=activity, now=when(0, "09:00")).code for _ in range(30)]
    assert len(set(codes)) == 30
    for code in codes:
        assert len(code) == services.CODE_LENGTH
        assert set(code) <= set(services.CODE_ALPHABET)
        assert not set(code) & set("01OIL")


def test_self_check_in_with_the_on_site_qr(
    people: Any, activity: Activity, wang: Signup, make_activity: Any, when: Any
) -> None:
    onsite = services.onsite_token(activity)
    assert onsite in services.onsite_qr_url(activity)
    assert services.onsite_qr_url(activity).endswith(f"/activities/{activity.pk}/checkin/?t={onsite}")

    early = services.self_check_in(
        actor=people.resident_a,
        activity=activity,
        token=onsite,
        now=activity.checkin_opens_at - dt.timedelta(minutes=1),
    )
    assert early.outcome == Outcome.NOT_OPEN
    other = make_activity(title="另一场")
    wrong = services.self_check_in(
        actor=people.resident_a, activity=activity, token=services.onsite_token(other), now=during(activity)
    )
    assert wrong.outcome == Outcome.INVALID
    tampered = services.self_check_in(
        actor=people.resident_a, activity=activity, token=_tampered(onsite, other.pk), now=during(activity)
    )
    assert tampered.outcome == Outcome.INVALID
    assert state(wang)[1] is None

    scan = services.self_check_in(actor=people.resident_a, activity=activity, token=onsite, now=during(activity))
    assert scan.outcome == Outcome.OK
    assert state(wang) == ("confirmed", during(activity), people.resident_a.pk, None)
    again = services.self_check_in(actor=people.resident_a, activity=activity, token=onsite, now=during(activity))
    assert again.outcome == Outcome.ALREADY

    late = services.self_check_in(
        actor=people.resident_b, activity=activity, token=onsite, now=activity.checkin_closes_at + dt.timedelta(days=1)
    )
    assert late.outcome == Outcome.INVALID  # 刘大爷 never signed up


def test_self_check_in_after_cancelling_says_cancelled(people: Any, activity: Activity, when: Any) -> None:
    first = services.sign_up(actor=people.resident_b, activity=activity, now=when(0, "09:00"))
    services.cancel_signup(actor=people.resident_b, signup=first, now=when(0, "10:00"))
    scan = services.self_check_in(
        actor=people.resident_b, activity=activity, token=services.onsite_token(activity), now=during(activity)
    )
    assert scan.outcome == Outcome.CANCELLED
    # Signed up again: the live sign-up is the one checked in.
    again = services.sign_up(actor=people.resident_b, activity=activity, now=when(0, "11:00"))
    scan = services.self_check_in(
        actor=people.resident_b, activity=activity, token=services.onsite_token(activity), now=during(activity)
    )
    assert scan.outcome == Outcome.OK
    assert scan.signup is not None
    assert scan.signup.pk == again.pk


@pytest.mark.parametrize("persona", ["manager_b", "manager_c", "resident_a", "volunteer_a", "leader_a", "liaison_a"])
def test_only_its_own_staff_scan(persona: str, people: Any, activity: Activity, wang: Signup) -> None:
    actor = getattr(people, persona)
    with pytest.raises(NotFound):
        services.check_in(actor=actor, activity=activity, code=wang.code, now=during(activity))
    # From the general scanner, with no activity chosen: the token names nobody they may check in.
    scan = services.check_in(actor=actor, token=services.signup_token(wang), now=during(activity))
    assert scan.outcome == Outcome.INVALID
    assert scan.message == "无效的签到码"
    assert state(wang)[1] is None


def test_staff_above_the_station_scan_too(people: Any, activity: Activity, wang: Signup) -> None:
    scan = services.check_in(actor=people.subcentre_admin, activity=activity, code=wang.code, now=during(activity))
    assert scan.outcome == Outcome.OK
    assert state(wang)[2] == people.subcentre_admin.pk


def test_a_point_activity_is_scanned_by_the_station(people: Any, street: Any, make_activity: Any, when: Any) -> None:
    activity = make_activity(site=street.point_a)
    signup = services.sign_up(actor=people.resident_a, activity=activity, now=when(0, "09:00"))
    assert (
        services.check_in(actor=people.manager_a, activity=activity, code=signup.code, now=during(activity)).outcome
        == Outcome.OK
    )


def test_attendance_counts_person_times(
    people: Any, chen: Any, make_activity: Any, make_resident: Any, when: Any
) -> None:
    activity = make_activity(seats=3, waitlist_limit=2, posts=[{"name": "引导员", "headcount": 1}])
    now = when(0, "09:00")
    residents = [make_resident() for _ in range(5)]
    signups = [services.sign_up(actor=p, activity=activity, now=now) for p in residents[:4]]
    assert [s.status for s in signups] == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    gone = services.sign_up(actor=residents[4], activity=activity, now=now)
    services.cancel_signup(actor=residents[4], signup=gone, now=now)  # a cancelled sign-up counts for nothing
    volunteer = services.sign_up(actor=people.volunteer_a, activity=activity, post=activity.posts.get(), now=now)
    assert services.attendance(activity) == {"confirmed": 4, "waitlisted": 1, "checked_in": 0, "checked_out": 0}

    at = during(activity)
    for signup in (signups[0], signups[1], volunteer):
        assert services.check_in(actor=people.manager_a, activity=activity, code=signup.code, now=at).ok
    services.check_in(actor=people.manager_a, activity=activity, code=signups[3].code, now=at)  # waitlisted
    services.check_in(actor=people.manager_a, activity=activity, code=signups[0].code, now=at)  # again
    services.check_out(actor=people.manager_a, activity=activity, code=volunteer.code, now=activity.ends_at)
    assert services.attendance(activity) == {"confirmed": 4, "waitlisted": 1, "checked_in": 3, "checked_out": 1}
    assert (
        Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED, checked_in_at__isnull=False).count()
        == 3
    )
