from wenming.lib import geo


def test_haversine_known_distance() -> None:
    # One degree of latitude is about 111.2 km.
    assert abs(geo.haversine_m(31.0, 121.0, 32.0, 121.0) - 111_195) < 50
    assert geo.haversine_m(31.2, 121.5, 31.2, 121.5) == 0


def test_bounding_box_contains_the_circle() -> None:
    lat, lng, r = 31.26, 121.49, 1500
    lo_lat, hi_lat, lo_lng, hi_lng = geo.bounding_box(lat, lng, r)
    assert geo.haversine_m(lat, lng, hi_lat, lng) >= r - 1
    assert geo.haversine_m(lat, lng, lat, hi_lng) >= r - 1
    assert lo_lat < lat < hi_lat
    assert lo_lng < lng < hi_lng


def test_gcj02_offset_and_round_trip_in_shanghai() -> None:
    lat, lng = 31.2304, 121.4737
    glat, glng = geo.wgs84_to_gcj02(lat, lng)
    offset = geo.haversine_m(lat, lng, glat, glng)
    assert 300 < offset < 800  # the few hundred metres that matter for a 15-minute circle
    back = geo.gcj02_to_wgs84(glat, glng)
    assert geo.haversine_m(lat, lng, *back) < 0.5


def test_no_offset_outside_china() -> None:
    assert geo.wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)
    assert geo.gcj02_to_wgs84(48.8566, 2.3522) == (48.8566, 2.3522)
