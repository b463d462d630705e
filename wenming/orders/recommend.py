"""派单推荐: the volunteers best placed to take an order, best first, each with the reasons why.

Candidates are ``policies.qualified_volunteers(order)`` (active volunteers of the responsible site's
subtree who have one of the type's skills or are in one of its teams; everyone when the type names
neither), less those who declined or released this order before. The SQL below states that rule
itself, for speed; ``tests/test_recommend.py`` checks it picks exactly the volunteers the policy does.

A candidate's score (0–100) is the sum of six factors, each a raw value between 0 and 1 times its
weight:

============  ======  ===========================================================================
factor        weight  raw value
============  ======  ===========================================================================
skill         25      1 for a member of one of the type's teams, else the share of the type's
                      skills they have
distance      25      1 km / (1 km + d): half the points at a 15-minute walk; d from the order's
                      location (else its site's) to the volunteer's site (volunteers have no
                      location of their own); 0 when the site has no location
availability  15      1 when their weekly availability has the preferred time's weekday and day
                      part (Asia/Shanghai; morning before 12:00, afternoon before 18:00, then
                      evening), 0.5 when they have not filled in their availability, else 0
load          15      1 / (1 + orders they hold now: accepted or in service)
rating        10      (b − 1) / 4, b their average rating shrunk toward a prior of 4.0 worth five
                      ratings: b = (5 × 4.0 + sum of ratings) / (5 + number of ratings), so one
                      5★ (b = 4.17) does not beat twenty 4.8★ (b = 4.64); no rating: b = 4.0
fairness      10      1 / (1 + orders they accepted in the last 30 days)
============  ======  ===========================================================================

A factor that says nothing about the order is left out and the other weights are scaled up to
sum to 100: skill when the type names neither skills nor teams, distance when neither the order
nor its site has a location, availability when no time is preferred. Equal scores go to the lower
volunteer id. Every candidate carries one ``Reason`` per factor that applies, in Chinese; the
fairness reason compares with the average of the candidates at the nearest sites (the first ring).

How it stays fast with 100,000 volunteers, exactly:

- Distance depends only on the site, and there are far fewer sites than volunteers: it is computed
  in Python once per site of the subtree and handed to SQL as a table of (site, points).
- Everything else is scored in SQL, one statement per ring of sites, nearest first (``RINGS``: the
  8 nearest, the next 24, the rest), ending ``ORDER BY score DESC, id LIMIT n``: only n rows come
  back. Skill and availability points (the static points) come from the volunteer row and index
  probes; load, rating and fairness (the history) from one correlated pass over the volunteer's
  orders (index on ``accepted_by``).
- In two phases: a ring first scores in full the ``FIRST_FEW`` × n candidates with the most static
  points; their n-th score is one the rest must be able to beat, so the history of the others is
  read only if their static points plus the best possible history (``_Plan.best_history``) reach
  it, and the bar.
- No volunteer of a site can score more than its distance points plus the full weight of every
  other factor, so a ring skips the sites where that bound falls short of the n-th best score found
  so far (the bar). Tighter: a candidate short of full skill points (neither in one of the type's
  teams nor holding all of its k ≥ 2 skills) has at most (k − 1)/k of them, so where only full skill
  points could reach the bar, only the full-skill few are read (team members and holders of every
  skill, found by id), and for all such sites of the rest of the subtree at once (the bar only
  rises). In the benchmark (bench/recommend.py) an order escalated to the district centre reads its
  8 nearest sites, then some 800 full-skill volunteers: two statements.
- Over a few sites the volunteers are read site by site (the (site, is_active) index) and asked
  whether they qualify; over many, the type's skill holders and team members are read once. On
  PostgreSQL the site-by-site read is a ``LATERAL`` subquery (``OFFSET 0`` keeps it one), and ids
  from a subquery are matched with ``= ANY(ARRAY(…))``: with the default ``random_page_cost`` the
  planner would otherwise scan all 100,000 volunteers rather than probe a few hundred.

At most ten queries, whatever the number of candidates: the type's skills and teams, the sites,
up to three rings, and four for the chosen few (rows, their matching skills, teams and history).
PostgreSQL connections run with ``jit=off`` (settings), as compiling a ring cost more than running
it. Scoring with nothing to separate the sites (no locations at all) visits every candidate.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.accounts.models import User
from wenming.lib.geo import FIFTEEN_MINUTE_WALK_M, haversine_m
from wenming.network.models import Site
from wenming.orders import policies
from wenming.orders.models import HELD, Order, OrderEvent
from wenming.volunteers.models import WEEKDAYS, TeamMembership, Volunteer

WEIGHTS: dict[str, float] = {
    "skill": 25.0,
    "distance": 25.0,
    "availability": 15.0,
    "load": 15.0,
    "rating": 10.0,
    "fairness": 10.0,
}
# Half the distance points at a 15-minute walk.
HALF_SCORE_DISTANCE_M = float(FIFTEEN_MINUTE_WALK_M)
PRIOR_RATING = 4.0
PRIOR_RATINGS = 5
RECENT_DAYS = 30
UNKNOWN_AVAILABILITY = 0.5
# Sites are scored nearest first, in rings of this many sites (the last takes the rest).
RINGS = (8, 24, 1_000_000_000)
# A ring first scores this many times ``limit`` candidates (the best by their points before history)
# in full, and so knows a score the rest must be able to beat before their history is read.
FIRST_FEW = 4
# A ring of more sites than this reads the skill holders once instead of asking each volunteer.
MANY_SITES = 24
# Moves after which a volunteer is not offered the same order again.
REFUSALS = ("decline", "release")

WEEKDAY_LABELS = {
    "mon": gettext_lazy("周一"),
    "tue": gettext_lazy("周二"),
    "wed": gettext_lazy("周三"),
    "thu": gettext_lazy("周四"),
    "fri": gettext_lazy("周五"),
    "sat": gettext_lazy("周六"),
    "sun": gettext_lazy("周日"),
}
DAY_PART_LABELS = {
    "morning": gettext_lazy("上午"),
    "afternoon": gettext_lazy("下午"),
    "evening": gettext_lazy("晚上"),
}


@dataclass(frozen=True)
class Reason:
    factor: str  # "skill" | "distance" | "availability" | "load" | "rating" | "fairness"
    points: float  # its contribution to the score
    text: str


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    score: float  # 0..100
    reasons: tuple[Reason, ...]
    distance_m: float | None


# --- The raw values (the SQL computes the same) -------------------------------------------


def day_part(moment: dt.datetime) -> tuple[str, str]:
    """The (weekday, day part) keys of ``Volunteer.availability`` a moment falls in, in Asia/Shanghai."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    part = "morning" if local.hour < 12 else "afternoon" if local.hour < 18 else "evening"
    return WEEKDAYS[local.weekday()], part


def distance_raw(distance_m: float | None) -> float:
    if distance_m is None:
        return 0.0
    return HALF_SCORE_DISTANCE_M / (HALF_SCORE_DISTANCE_M + distance_m)


def bayesian_rating(total: float, count: int) -> float:
    return (PRIOR_RATINGS * PRIOR_RATING + total) / (PRIOR_RATINGS + count)


def rating_raw(total: float, count: int) -> float:
    return (bayesian_rating(total, count) - 1) / 4


def fewer_raw(count: int) -> float:
    """Load and fairness: fewer is better."""
    return 1 / (1 + count)


def availability_raw(availability: Any, weekday: str, part: str) -> float:
    if not availability or not isinstance(availability, dict):
        return UNKNOWN_AVAILABILITY
    parts = availability.get(weekday)
    return 1.0 if isinstance(parts, list) and part in parts else 0.0


# --- What the order asks for ---------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    weights: dict[str, float]  # the factors that apply, scaled to sum to 100
    skills: dict[int, str]  # the type's skills: id -> name
    team_ids: list[int]
    origin: tuple[float, float] | None
    slot: tuple[str, str] | None  # (weekday, day part) of the preferred time
    recent_since: dt.datetime

    @property
    def best_without_distance(self) -> float:
        """The most any volunteer can score on everything but distance."""
        return sum(w for f, w in self.weights.items() if f != "distance")

    @property
    def skill_gap(self) -> float:
        """The skill points a candidate short of full skill points misses at least: one neither in one
        of the type's teams nor holding all of its k skills holds at most k − 1 of them. 0 when every
        candidate has full skill points (k < 2: a candidate holds the one skill or is in a team) or
        skill does not count."""
        k = len(self.skills)
        return self.weights["skill"] / k if "skill" in self.weights and k >= 2 else 0.0

    @property
    def best_history(self) -> float:
        """The most any volunteer can score on load, rating and fairness."""
        return self.weights["load"] + self.weights["rating"] + self.weights["fairness"]


def _plan(order: Order, now: dt.datetime) -> _Plan:
    service_type = order.service_type  # a caller's prefetch of skills and teams saves two queries
    skills = {s.pk: s.name for s in service_type.skills.all()}
    team_ids = [t.pk for t in service_type.teams.all()]
    origin: tuple[float, float] | None = None
    if order.latitude is not None and order.longitude is not None:
        origin = (order.latitude, order.longitude)
    elif order.site.latitude is not None and order.site.longitude is not None:
        origin = (order.site.latitude, order.site.longitude)
    slot = day_part(order.preferred_at) if order.preferred_at is not None else None
    applies = {
        "skill": bool(skills or team_ids),
        "distance": origin is not None,
        "availability": slot is not None,
        "load": True,
        "rating": True,
        "fairness": True,
    }
    total = sum(w for f, w in WEIGHTS.items() if applies[f])
    weights = {f: w * 100 / total for f, w in WEIGHTS.items() if applies[f]}
    return _Plan(weights, skills, team_ids, origin, slot, now - dt.timedelta(days=RECENT_DAYS))


# --- Scoring in SQL -------------------------------------------------------------------------
#
# One statement per ring of sites, written out rather than built with the ORM: it runs on every dispatch,
# and the ORM took longer to compile the expression than the database took to run it. SQLite and
# PostgreSQL run the same text except for the test of the availability JSON and two joins PostgreSQL
# is held to (``BY_SITE_SQL``, ``IN_SET_SQL``). The templates are
# constants; what is put into them is table names (from the models), placeholders, and numbers
# derived from this module's constants (``_num``). Every value (ids, times, the slot) is a
# parameter, and each fragment carries its parameters in the order they appear.

# c: the candidates and their static points; f: the first few by static points, with their history;
# then the rest, but only those whose static points plus the best possible history reach both the
# bar and the ``limit``-th score of f (no row when f has fewer: then c has no more).
RING_SQL = (
    "WITH c AS MATERIALIZED ({branches}),"
    " f AS MATERIALIZED (SELECT b.id, b.static + {history_b} AS score"
    " FROM (SELECT c.id, c.static FROM c ORDER BY c.static DESC, c.id LIMIT %s) b),"
    " r AS (SELECT f.id, f.score FROM f UNION ALL SELECT c.id, c.static + {history} FROM c"
    " WHERE {bar}c.static >= (SELECT f.score FROM f ORDER BY f.score DESC LIMIT 1 OFFSET %s) - %s"
    " AND c.id NOT IN (SELECT f.id FROM f))"
    " SELECT r.id, r.score{average} FROM r ORDER BY r.score DESC, r.id LIMIT %s"
)
# One branch of the candidates CTE: the static points of the volunteers it reads.
BRANCH_SQL = "SELECT v.id, {static} AS static FROM {source} WHERE {where}"
# Read the volunteers site by site (few sites), or look the type's people up by id (many, or only
# the full-skill few); CROSS JOIN keeps SQLite to that order. PostgreSQL plans a CROSS JOIN as any
# join, and with the default random_page_cost scans every volunteer rather than probe a few sites:
# the LATERAL subquery (OFFSET 0 keeps it from being flattened) makes it read them site by site.
BY_SITE_SQL = {
    "postgresql": (
        "(VALUES {sites}) d CROSS JOIN LATERAL (SELECT * FROM {volunteers} v WHERE v.site_id = d.column1 OFFSET 0) v"
    ),
    "sqlite": "(VALUES {sites}) d CROSS JOIN {volunteers} v",
}
BY_HOLDER_SQL = "{volunteers} v CROSS JOIN (VALUES {sites}) d"
SITE_ROW_SQL = "(CAST(%s AS BIGINT), CAST(%s AS DOUBLE PRECISION))"
SKILL_POINTS_SQL = (
    "CAST((SELECT COUNT(*) FROM {skills} s WHERE s.volunteer_id = v.id AND s.skill_id IN ({ids}))"
    " AS DOUBLE PRECISION) * {per_skill}"
)
# "+ 0": SQLite then finds the volunteer's memberships by volunteer, not with one probe per team.
TEAM_POINTS_SQL = (
    "CASE WHEN EXISTS (SELECT 1 FROM {memberships} m WHERE m.volunteer_id = v.id AND m.team_id + 0 IN ({ids}))"
    " THEN {full} ELSE {otherwise} END"
)
AVAILABILITY_POINTS_SQL = "CASE WHEN {empty} THEN {unknown} WHEN {free} THEN {full} ELSE 0.0 END"
# Per database: (no availability given, free at the slot); the parameters are added in _static.
AVAILABILITY_TESTS = {
    "postgresql": (
        "v.availability IS NULL OR v.availability IN ('{}'::jsonb, 'null'::jsonb)",
        "(v.availability -> %s) @> CAST(%s AS JSONB)",
    ),
    "sqlite": (
        "v.availability IS NULL OR json(v.availability) IN ('{}', 'null')",
        "json_extract(v.availability, %s) LIKE %s",
    ),
}
HISTORY_POINTS_SQL = (
    "(SELECT {load} / (1.0 + CAST(COUNT(CASE WHEN o.status IN ({held}) THEN 1 END) AS DOUBLE PRECISION))"
    " + {rating} * (({prior_sum} + CAST(COALESCE(SUM(o.rating), 0) AS DOUBLE PRECISION))"
    " / ({prior_count} + CAST(COUNT(o.rating) AS DOUBLE PRECISION)) - 1.0)"
    " + {fairness} / (1.0 + CAST(COUNT(CASE WHEN o.accepted_at >= %s THEN 1 END) AS DOUBLE PRECISION))"
    " FROM {orders} o WHERE o.accepted_by_id = {of}.id)"
)
RECENT_AVERAGE_SQL = (
    ", (SELECT AVG(CAST((SELECT COUNT(*) FROM {orders} o WHERE o.accepted_by_id = c.id AND o.accepted_at >= %s)"
    " AS DOUBLE PRECISION)) FROM c)"
)
# Scalar subqueries rather than EXISTS: PostgreSQL would hash every holder of the skill first, where a
# probe per volunteer of a few sites is cheaper.
HAS_SKILL_SQL = "(SELECT 1 FROM {skills} s WHERE s.volunteer_id = v.id AND s.skill_id IN ({ids}) LIMIT 1) IS NOT NULL"
IN_TEAM_SQL = (
    "(SELECT 1 FROM {memberships} m WHERE m.volunteer_id = v.id AND m.team_id + 0 IN ({ids}) LIMIT 1) IS NOT NULL"
)
# A volunteer among the ids a subquery lists. PostgreSQL is told to compute the list first and then
# probe the volunteers by primary key: as ``IN`` it would hash the list and scan all volunteers.
IN_SET_SQL = {"postgresql": "v.id = ANY(ARRAY({ids}))", "sqlite": "v.id IN ({ids})"}
SKILL_HOLDERS_SQL = "SELECT s.volunteer_id FROM {skills} s WHERE s.skill_id IN ({ids})"
TEAM_MEMBERS_SQL = "SELECT m.volunteer_id FROM {memberships} m WHERE m.team_id IN ({ids})"
# Holders of every one of the type's skills: those of the first, asked for each of the others (about
# half the rows of grouping the holders of all).
ALL_SKILLS_SQL = "SELECT s.volunteer_id FROM {skills} s WHERE s.skill_id = %s{others}"
ALSO_SKILL_SQL = " AND EXISTS (SELECT 1 FROM {skills} t WHERE t.volunteer_id = s.volunteer_id AND t.skill_id = %s)"
ACTIVE_ACCOUNT_SQL = "EXISTS (SELECT 1 FROM {users} u WHERE u.id = v.user_id AND u.is_active = %s)"
NOT_REFUSED_SQL = (
    "v.id NOT IN (SELECT e.volunteer_id FROM {events} e"
    " WHERE e.order_id = %s AND e.action IN ({actions}) AND e.volunteer_id IS NOT NULL)"
)


def _tables() -> dict[str, str]:
    return {
        "volunteers": Volunteer._meta.db_table,
        "users": User._meta.db_table,
        "skills": Volunteer.skills.through._meta.db_table,
        "memberships": TeamMembership._meta.db_table,
        "orders": Order._meta.db_table,
        "events": OrderEvent._meta.db_table,
    }


def _num(value: float) -> str:
    assert math.isfinite(value)
    return repr(float(value))


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("%s" for _unused in values)


@dataclass(frozen=True)
class _Sql:
    text: str
    params: tuple[Any, ...] = ()


def _static(plan: _Plan, tables: dict[str, str]) -> _Sql:
    """Skill, distance and availability points of volunteer ``v`` at site ``d`` (``d.column2`` is the
    site's distance points): all that needs no look at the volunteer's orders."""
    w = plan.weights
    terms, params = ["0.0"], list[Any]()
    if "skill" in w:
        skill, skill_params = "0.0", list[Any]()
        if plan.skills:
            per_skill = _num(w["skill"] / len(plan.skills))
            skill = SKILL_POINTS_SQL.format(ids=_marks(plan.skills), per_skill=per_skill, **tables)
            skill_params = list(plan.skills)
        if plan.team_ids:
            skill = TEAM_POINTS_SQL.format(ids=_marks(plan.team_ids), full=_num(w["skill"]), otherwise=skill, **tables)
            skill_params = [*plan.team_ids, *skill_params]
        terms.append(skill)
        params += skill_params
    if "distance" in w:
        terms.append("d.column2")
    if "availability" in w and plan.slot is not None:
        weekday, part = plan.slot
        empty, free = AVAILABILITY_TESTS[connection.vendor]
        terms.append(
            AVAILABILITY_POINTS_SQL.format(
                empty=empty,
                free=free,
                unknown=_num(w["availability"] * UNKNOWN_AVAILABILITY),
                full=_num(w["availability"]),
            )
        )
        if connection.vendor == "postgresql":
            params += [weekday, json.dumps([part])]
        else:
            params += [f'$."{weekday}"', f'%"{part}"%']
    return _Sql(" + ".join(terms), tuple(params))


def _history(plan: _Plan, tables: dict[str, str], of: str) -> _Sql:
    """Load, rating and fairness points of volunteer ``{of}.id``, in one pass over the orders they accepted
    (with none, the aggregates see no rows and give a newcomer's points)."""
    w = plan.weights
    held = sorted(HELD)
    text = HISTORY_POINTS_SQL.format(
        load=_num(w["load"]),
        held=_marks(held),
        rating=_num(w["rating"] / 4),
        prior_sum=_num(PRIOR_RATINGS * PRIOR_RATING),
        prior_count=_num(PRIOR_RATINGS),
        fairness=_num(w["fairness"]),
        of=of,
        **tables,
    )
    return _Sql(text, (*held, connection.ops.adapt_datetimefield_value(plan.recent_since)))


# How a branch finds its volunteers: asking each volunteer of its sites whether they qualify, reading
# the type's skill holders and team members once, or reading only the full-skill few (``_Plan.skill_gap``).
BY_SITE, BY_HOLDERS, STRONG = "by site", "by holders", "strong"


def _where(order: Order, plan: _Plan, tables: dict[str, str], *, how: str) -> _Sql:
    """Who is a candidate: the rule of ``policies.qualified_volunteers``, less who refused the order
    (for ``STRONG``, only those whose skill points are full: team members and holders of every skill)."""
    terms, params = ["v.site_id = d.column1", "v.is_active = %s"], list[Any]([True])
    if how in (BY_HOLDERS, STRONG):
        holders = []
        if plan.skills:
            if how == STRONG:
                others = "".join(ALSO_SKILL_SQL.format(**tables) for _unused in list(plan.skills)[1:])
                holders.append(ALL_SKILLS_SQL.format(others=others, **tables))
            else:
                holders.append(SKILL_HOLDERS_SQL.format(ids=_marks(plan.skills), **tables))
            params += plan.skills
        if plan.team_ids:
            holders.append(TEAM_MEMBERS_SQL.format(ids=_marks(plan.team_ids), **tables))
            params += plan.team_ids
        terms.append(IN_SET_SQL[connection.vendor].format(ids=" UNION ".join(holders)))
    elif plan.skills or plan.team_ids:
        either = []
        if plan.skills:
            either.append(HAS_SKILL_SQL.format(ids=_marks(plan.skills), **tables))
            params += plan.skills
        if plan.team_ids:
            either.append(IN_TEAM_SQL.format(ids=_marks(plan.team_ids), **tables))
            params += plan.team_ids
        terms.append(f"({' OR '.join(either)})")
    terms.append(ACTIVE_ACCOUNT_SQL.format(**tables))
    terms.append(NOT_REFUSED_SQL.format(actions=_marks(REFUSALS), **tables))
    params += [True, order.pk, *REFUSALS]
    return _Sql(" AND ".join(terms), tuple(params))


def _branch(order: Order, plan: _Plan, site_points: dict[int, float], tables: dict[str, str], *, how: str) -> _Sql:
    """The volunteers of these sites that ``how`` reads, with their static points."""
    rows = ", ".join(SITE_ROW_SQL for _unused in site_points)
    source = _Sql(
        (BY_SITE_SQL[connection.vendor] if how == BY_SITE else BY_HOLDER_SQL).format(sites=rows, **tables),
        tuple(x for pk, points in site_points.items() for x in (pk, points)),
    )
    static, where = _static(plan, tables), _where(order, plan, tables, how=how)
    text = BRANCH_SQL.format(static=static.text, source=source.text, where=where.text)
    return _Sql(text, (*static.params, *source.params, *where.params))


@dataclass(frozen=True)
class _Row:
    pk: int
    score: float


def _ring(
    order: Order,
    plan: _Plan,
    everyone: dict[int, float],
    strong: dict[int, float],
    limit: int,
    *,
    bar: float,
    with_average: bool,
) -> tuple[list[_Row], float | None]:
    """The best ``limit`` candidates that can still reach ``bar``: every candidate of the sites of
    ``everyone``, the full-skill ones of the sites of ``strong`` (both: site -> distance points); and
    (if asked) the average number of orders the candidates accepted in the last 30 days.

    The candidates' static points come first (a materialised CTE); the ``FIRST_FEW`` × ``limit`` with
    the most are scored in full, and the orders of any other candidate are only read if their static
    points plus the best possible history reach both the bar and the ``limit``-th of those scores.
    """
    tables = _tables()
    branches = []
    if everyone:
        many = bool(plan.skills or plan.team_ids) and len(everyone) > MANY_SITES
        branches.append(_branch(order, plan, everyone, tables, how=BY_HOLDERS if many else BY_SITE))
    if strong:
        branches.append(_branch(order, plan, strong, tables, how=STRONG))
    history, history_b = _history(plan, tables, "c"), _history(plan, tables, "b")
    average = _Sql("")
    if with_average:
        average = _Sql(
            RECENT_AVERAGE_SQL.format(**tables), (connection.ops.adapt_datetimefield_value(plan.recent_since),)
        )
    cut = _Sql("c.static >= %s AND ", (bar - plan.best_history,)) if bar > -math.inf else _Sql("")
    text = RING_SQL.format(
        branches=" UNION ALL ".join(b.text for b in branches),
        history=history.text,
        history_b=history_b.text,
        average=average.text,
        bar=cut.text,
    )
    first = _Sql("", (FIRST_FEW * limit,))
    rest = _Sql("", (limit - 1, plan.best_history))
    parts = (*branches, history_b, first, history, cut, rest, average)  # in the order they appear in RING_SQL
    params = [p for part in parts for p in part.params] + [limit]
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        found = cursor.fetchall()
    recent_average = float(found[0][2]) if with_average and found else None
    return [_Row(int(r[0]), float(r[1])) for r in found], recent_average


def _rings(order: Order, plan: _Plan, points: dict[int, float], limit: int) -> tuple[list[_Row], float | None]:
    """The best ``limit`` of the subtree: sites nearest first, in rings, each ring one statement.

    Against the best ``limit`` found so far (the bar), a site none of whose candidates could reach it
    is skipped; one where only a full-skill candidate could (``_Plan.skill_gap``) is read for those
    only, and as the bar only rises, every such site of the rest of the subtree is read with it, in
    the same statement (reading the full-skill few costs about the same for one site or for all).
    """
    by_nearness = sorted(points, key=lambda pk: (-points[pk], pk))
    best: list[_Row] = []
    average: float | None = None
    done: set[int] = set()
    start = 0
    for size in RINGS:
        bar = best[limit - 1].score if len(best) >= limit else -math.inf
        everyone: dict[int, float] = {}
        strong: dict[int, float] = {}
        for i, pk in enumerate(by_nearness[start:], start):
            best_here = points[pk] + plan.best_without_distance
            if pk in done or best_here < bar:
                continue
            if best_here - plan.skill_gap >= bar:
                if i < start + size:
                    everyone[pk] = points[pk]
            else:
                strong[pk] = points[pk]
        if everyone or strong:
            found, ring_average = _ring(order, plan, everyone, strong, limit, bar=bar, with_average=start == 0)
            average = ring_average if start == 0 else average
            best = sorted([*best, *found], key=lambda r: (-r.score, r.pk))[:limit]
            done.update(strong)
        start += size
    return best, average


def rank(order: Order, *, limit: int = 5, now: dt.datetime | None = None) -> list[Candidate]:
    """The best ``limit`` candidates for the order, best first."""
    if limit <= 0:
        return []
    now = now or timezone.now()
    plan = _plan(order, now)
    root = policies.responsible_site(order)
    metres: dict[int, float | None] = {}
    points: dict[int, float] = {}
    weight = plan.weights.get("distance", 0.0)
    for pk, lat, lng in Site.objects.filter(path__startswith=root.path).values_list("pk", "latitude", "longitude"):
        d = None
        if plan.origin is not None and lat is not None and lng is not None:
            d = haversine_m(plan.origin[0], plan.origin[1], lat, lng)
        metres[pk] = d
        points[pk] = weight * distance_raw(d)
    # PostgreSQL runs these without JIT (settings: jit=off), which costs more to compile than to run.
    best, average = _rings(order, plan, points, limit)
    return _explain([r.pk for r in best], plan, metres, average)


# --- The reasons for the chosen few -------------------------------------------------------


def _by_volunteer(pairs: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for pk, name in pairs:
        out[pk].append(name)
    return out


def _explain(
    ids: list[int], plan: _Plan, metres: dict[int, float | None], recent_average: float | None
) -> list[Candidate]:
    if not ids:
        return []
    volunteers = Volunteer.objects.select_related("user", "site").in_bulk(ids)
    # Sorted here, not in SQL: an ORDER BY would lead SQLite to scan the whole skill's index.
    skills: dict[int, list[str]] = {}
    if "skill" in plan.weights and plan.skills:
        order_of = {sid: i for i, sid in enumerate(plan.skills)}
        held = Volunteer.skills.through.objects.filter(volunteer_id__in=ids, skill_id__in=list(plan.skills))
        pairs = sorted(held.values_list("volunteer_id", "skill_id"), key=lambda p: order_of[p[1]])
        skills = _by_volunteer((vid, plan.skills[sid]) for vid, sid in pairs)
    teams: dict[int, list[str]] = {}
    if "skill" in plan.weights and plan.team_ids:
        memberships = TeamMembership.objects.filter(volunteer_id__in=ids, team_id__in=plan.team_ids)
        teams = _by_volunteer(sorted(memberships.values_list("volunteer_id", "team__name"), key=lambda p: p[1]))
    history: dict[int, dict[str, Any]] = {
        row["accepted_by_id"]: dict(row)
        for row in Order.objects.filter(accepted_by_id__in=ids)
        .order_by()
        .values("accepted_by_id")
        .annotate(
            held=Count("pk", filter=Q(status__in=HELD)),
            recent=Count("pk", filter=Q(accepted_at__gte=plan.recent_since)),
            rating_sum=Coalesce(Sum("rating"), 0),
            rating_n=Count("rating"),
        )
    }
    result = []
    for pk in ids:
        volunteer = volunteers[pk]
        h = history.get(pk, {})
        distance = metres.get(volunteer.site_id)
        reasons = _reasons(
            plan,
            availability=volunteer.availability,
            skill_names=skills.get(pk, []),
            team_names=teams.get(pk, []),
            distance_m=distance,
            held=int(h.get("held", 0)),
            recent=int(h.get("recent", 0)),
            recent_average=recent_average,
            rating_sum=float(h.get("rating_sum", 0)),
            rating_n=int(h.get("rating_n", 0)),
        )
        result.append(
            Candidate(
                volunteer=volunteer,
                score=round(sum(r.points for r in reasons), 2),
                reasons=reasons,
                distance_m=round(distance, 1) if distance is not None else None,
            )
        )
    return result


def _distance_text(distance_m: float) -> str:
    if round(distance_m) < 1000:
        return _("距离%(m)d米") % {"m": round(distance_m)}
    return _("距离%(km).1f公里") % {"km": distance_m / 1000}


def _fairness_text(recent: int, average: float | None) -> str:
    """Whole sentences, one message each, for the translators."""
    days = RECENT_DAYS
    if average is None or abs(recent - average) < 0.05:
        if recent and average is not None:
            return _("近%(days)d天接单%(n)d次，与平均持平") % {"days": days, "n": recent}
        if recent:
            return _("近%(days)d天接单%(n)d次") % {"days": days, "n": recent}
        return _("近%(days)d天未接单") % {"days": days}
    if not recent:
        return _("近%(days)d天未接单，少于平均（%(avg).1f次）") % {"days": days, "avg": average}
    if recent < average:
        return _("近%(days)d天接单%(n)d次，少于平均（%(avg).1f次）") % {"days": days, "n": recent, "avg": average}
    return _("近%(days)d天接单%(n)d次，多于平均（%(avg).1f次）") % {"days": days, "n": recent, "avg": average}


def _reasons(
    plan: _Plan,
    *,
    availability: Any,
    skill_names: list[str],
    team_names: list[str],
    distance_m: float | None,
    held: int,
    recent: int,
    recent_average: float | None,
    rating_sum: float,
    rating_n: int,
) -> tuple[Reason, ...]:
    w = plan.weights
    out: list[Reason] = []
    if "skill" in w:
        raw = 1.0 if team_names else len(skill_names) / len(plan.skills) if plan.skills else 0.0
        texts = []
        if skill_names:
            texts.append(_("具备技能：%(skills)s") % {"skills": _("、").join(skill_names)})
        if team_names:
            texts.append(_("服务队成员：%(teams)s") % {"teams": _("、").join(team_names)})
        out.append(Reason("skill", round(w["skill"] * raw, 2), _("；").join(texts)))
    if "distance" in w:
        text = _distance_text(distance_m) if distance_m is not None else _("所在阵地未标注位置，距离未知")
        out.append(Reason("distance", round(w["distance"] * distance_raw(distance_m), 2), text))
    if "availability" in w and plan.slot is not None:
        weekday, part = plan.slot
        raw = availability_raw(availability, weekday, part)
        when = {"day": WEEKDAY_LABELS[weekday], "part": DAY_PART_LABELS[part]}
        if raw == 1.0:
            text = _("%(day)s%(part)s有空") % when
        elif raw == UNKNOWN_AVAILABILITY:
            text = _("未填写可服务时间")
        else:
            text = _("%(day)s%(part)s不在可服务时间内") % when
        out.append(Reason("availability", round(w["availability"] * raw, 2), text))
    text = _("手上有%(n)d单未完成") % {"n": held} if held else _("手上没有未完成的订单")
    out.append(Reason("load", round(w["load"] * fewer_raw(held), 2), text))
    if rating_n:
        text = _("平均评分%(avg).1f（%(n)d次）") % {"avg": rating_sum / rating_n, "n": rating_n}
    else:
        text = _("暂无评分")
    out.append(Reason("rating", round(w["rating"] * rating_raw(rating_sum, rating_n), 2), text))
    out.append(Reason("fairness", round(w["fairness"] * fewer_raw(recent), 2), _fairness_text(recent, recent_average)))
    return tuple(out)
