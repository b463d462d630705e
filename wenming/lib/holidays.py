"""China's working calendar: public holidays and make-up working days (调休).

The State Council publishes each year's arrangement in the autumn before;
``chinesecalendar`` carries the published years. For a year it does not
know yet, :func:`day_kind` answers ``None`` ("not published"), and callers
treat the day as an ordinary weekday or weekend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import chinese_calendar
from django.utils.translation import gettext_lazy as _

# chinesecalendar names holidays in English; people read them in Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": _("元旦"),
    "Spring Festival": _("春节"),
    "Tomb-sweeping Day": _("清明节"),
    "Labour Day": _("劳动节"),
    "Dragon Boat Festival": _("端午节"),
    "National Day": _("国庆节"),
    "Mid-autumn Festival": _("中秋节"),
    "Anti-Fascist 70th Day": _("抗战胜利纪念日"),
}


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # a public holiday (法定节假日), including the days off around it
    MAKEUP_WORKDAY = "makeup_workday"  # a weekend day worked in exchange (调休上班)


@dataclass(frozen=True)
class Day:
    date: dt.date
    kind: DayKind
    holiday: str = ""  # the holiday's name, for HOLIDAY and MAKEUP_WORKDAY
    published: bool = True  # False when the year's arrangement is not known yet

    @property
    def is_day_off(self) -> bool:
        return self.kind in (DayKind.HOLIDAY, DayKind.WEEKEND)

    @property
    def label(self) -> str:
        if self.kind == DayKind.HOLIDAY:
            return str(_("%(name)s假期") % {"name": self.holiday}) if self.holiday else str(_("假期"))
        if self.kind == DayKind.MAKEUP_WORKDAY:
            return str(_("调休上班"))
        return ""


def _name(raw: str | None) -> str:
    return str(HOLIDAY_NAMES.get(raw, raw)) if raw else ""


def day(date: dt.date) -> Day:
    weekend = date.weekday() >= 5
    try:
        is_holiday, raw_name = chinese_calendar.get_holiday_detail(date)
    except NotImplementedError:
        return Day(date, DayKind.WEEKEND if weekend else DayKind.WORKDAY, published=False)
    name = _name(raw_name)
    if is_holiday:
        if raw_name is None:  # an ordinary weekend
            return Day(date, DayKind.WEEKEND)
        return Day(date, DayKind.HOLIDAY, name)
    if weekend:
        return Day(date, DayKind.MAKEUP_WORKDAY, name)
    return Day(date, DayKind.WORKDAY)


def is_public_holiday(date: dt.date) -> bool:
    return day(date).kind == DayKind.HOLIDAY and bool(day(date).holiday)


def week(monday: dt.date) -> list[Day]:
    return [day(monday + dt.timedelta(days=i)) for i in range(7)]


def monday_of(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())
