"""Forms of the public network pages: the near-me finder and the coverage view."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wenming.lib.geo import FIFTEEN_MINUTE_WALK_M
from wenming.network.models import Site, SiteLevel
from wenming.network.selectors import MAX_RADIUS_M

RADIUS_CHOICES = (500, 1000, 2000, 5000)
MIN_RADIUS_M = 50
MIN_COVERAGE_M = 50
MAX_COVERAGE_M = 5000


def _between(label: Any, low: int, high: int) -> str:
    return gettext("%(label)s应为 %(low)s 到 %(high)s 之间的数字。") % {"label": label, "low": low, "high": high}


_between_lazy = lazy(_between, str)


def _number_errors(label: Any, low: int, high: int) -> dict[str, Any]:
    # Translated when shown, in the language of the request.
    message = _between_lazy(label, low, high)
    return {"invalid": message, "min_value": message, "max_value": message}


class NearForm(forms.Form):
    """Where to look from: typed or located coordinates, or a residential station."""

    lat = forms.FloatField(
        required=False, min_value=-90, max_value=90, error_messages=_number_errors(_("纬度"), -90, 90)
    )
    lng = forms.FloatField(
        required=False, min_value=-180, max_value=180, error_messages=_number_errors(_("经度"), -180, 180)
    )
    radius_m = forms.IntegerField(
        required=False,
        min_value=MIN_RADIUS_M,
        max_value=MAX_RADIUS_M,
        error_messages=_number_errors(_("搜索范围（米）"), MIN_RADIUS_M, MAX_RADIUS_M),
    )
    station = forms.IntegerField(required=False, error_messages={"invalid": _("请选择列表中的实践站。")})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("radius_m") is None:
            data["radius_m"] = FIFTEEN_MINUTE_WALK_M
        station_id = data.get("station")
        data["origin_station"] = None
        if station_id is not None:
            station = (
                Site.objects.filter(pk=station_id, level=SiteLevel.STATION, is_active=True)
                .exclude(latitude=None)
                .exclude(longitude=None)
                .only("id", "name", "latitude", "longitude")
                .first()
            )
            if station is None:
                raise forms.ValidationError(_("所选实践站不存在或尚未登记位置，请换一个或直接填写经纬度。"))
            data["origin_station"] = station
            data["lat"], data["lng"] = station.latitude, station.longitude
        elif data.get("lat") is None and data.get("lng") is None:
            raise forms.ValidationError(_("请点击“定位我的位置”、选择所在的实践站，或填写经纬度。"))
        elif data.get("lat") is None or data.get("lng") is None:
            raise forms.ValidationError(_("请同时填写纬度和经度。"))
        return data


class CoverageForm(forms.Form):
    distance_m = forms.IntegerField(
        required=False,
        min_value=MIN_COVERAGE_M,
        max_value=MAX_COVERAGE_M,
        error_messages=_number_errors(_("距离（米）"), MIN_COVERAGE_M, MAX_COVERAGE_M),
    )

    def clean_distance_m(self) -> int:
        value = self.cleaned_data.get("distance_m")
        return FIFTEEN_MINUTE_WALK_M if value is None else int(value)
