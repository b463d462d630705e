"""The scale generator: consistent synthetic networks for load tests.

``generate(scale, seed)`` builds districts of streets, each street a
sub-centre with its stations, points, staff, volunteers, residents, teams,
partner units and an hours ledger, in the ``SYN{seed}-`` namespace of site
codes so that it lives beside the demo street and beside other seeds.

It writes straight to the tables, not through the ORM: COPY on PostgreSQL
(psycopg 3), ``executemany`` in large transactions on SQLite. It keeps the
invariants the services keep:

- ids are reserved up front (under a table lock on PostgreSQL, under
  SQLite's IMMEDIATE write lock), so every site's materialised path is
  its parent's path plus ``f"{pk:010d}."`` as ``network.services`` writes it,
  and every foreign key points at a row of the same run or of an earlier one;
- phones are unique mainland mobiles (``199`` numbers, never used by the
  demo), ID numbers are valid, unique, encrypted and hashed with the
  configured keys as ``Profile.set_id_number`` does;
- every person has the role grant of what they are; station managers
  manage their station; team leaders hold the team-leader role;
- ledger rows are only ever inserted (the table is append-only), their
  hours are positive, at most 24 and never above the time between start
  and end, and they are recorded by staff who cover the place of service.

Each street is one transaction: an interrupted run leaves whole streets.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from wenming.demo import names
from wenming.demo.people import SERVICES, SKILLS, SYNTH_PHONE_PREFIX, availability, political_status
from wenming.lib import cn_id, crypto
from wenming.lib.masking import mask_id_number
from wenming.network.models import PATH_STEP, SiteKind, SiteLevel
from wenming.volunteers.models import Skill

UTC = dt.UTC


@dataclass(frozen=True)
class Scale:
    name: str
    districts: int
    streets_per_district: int
    stations_per_street: int
    points_per_station: int
    volunteers_per_street: int
    residents_per_street: int
    records_per_volunteer: int
    teams_per_street: int = 7
    units_per_street: int = 20

    @property
    def streets(self) -> int:
        return self.districts * self.streets_per_district

    def planned(self) -> dict[str, int]:
        """Approximate row counts, for the command's plan line."""
        streets = self.streets
        return {
            "sites": self.districts + streets * (1 + self.stations_per_street * (1 + self.points_per_station)),
            "volunteers": streets * self.volunteers_per_street,
            "residents": streets * self.residents_per_street,
            "ledger": streets * self.volunteers_per_street * self.records_per_volunteer,
        }


SCALES: dict[str, Scale] = {
    # One street like the demo's: ~35 stations, ~1,000 volunteers, ~30,000 ledger rows.
    "street": Scale("street", 1, 1, 35, 1, 1_000, 500, 30),
    # A district of ten streets.
    "district": Scale("district", 1, 10, 35, 1, 1_000, 500, 30),
    # A city: 200 streets, 6,000 stations, 1M volunteers, 28M ledger rows.
    "city": Scale("city", 20, 10, 30, 1, 5_000, 2_500, 28),
}

CODE_PREFIX = "SYN"
# Where the synthetic city lies: a grid of districts south-west of the demo.
ORIGIN_LAT, ORIGIN_LNG = 31.20, 121.40
DISTRICT_STEP = 0.12  # degrees between districts (~12 km)
STREET_STEP = 0.03  # degrees between streets (~3 km)
SYNTH_REGION = "31"  # province code of the synthetic ID numbers; see _id_number

STREET_WORDS = (
    "安和",
    "百川",
    "长兴",
    "东明",
    "丰泽",
    "广福",
    "和平",
    "华阳",
    "嘉禾",
    "锦江",
    "景云",
    "康乐",
    "兰亭",
    "临江",
    "明德",
    "南苑",
    "宁远",
    "清河",
    "瑞丰",
    "润泽",
    "盛世",
    "顺义",
    "太平",
    "天佑",
    "同心",
    "万福",
    "文昌",
    "西湖",
    "祥和",
    "新华",
    "兴业",
    "永安",
    "玉泉",
    "裕民",
    "长春",
    "正阳",
    "中和",
    "紫荆",
    "福海",
    "宏远",
)
STATION_WORDS = (
    "春晖",
    "晨光",
    "翠竹",
    "丹桂",
    "东篱",
    "枫林",
    "海棠",
    "荷塘",
    "红枫",
    "金秋",
    "锦绣",
    "景苑",
    "兰苑",
    "柳岸",
    "梅园",
    "明珠",
    "牡丹",
    "青云",
    "秋实",
    "瑞祥",
    "桑园",
    "石榴",
    "松柏",
    "桃源",
    "听涛",
    "梧桐",
    "香樟",
    "杏林",
    "雅苑",
    "银杏",
    "樱花",
    "玉兰",
    "鸢尾",
    "紫薇",
    "竹园",
    "芳草",
)
TEAM_NAMES = (
    "小蜜蜂志愿服务队",
    "青年志愿服务队",
    "银发先锋志愿服务队",
    "巾帼暖心志愿服务队",
    "医志同行志愿服务队",
    "法律明白人志愿服务队",
    "文明劝导志愿服务队",
    "邻里守望志愿服务队",
    "书香志愿服务队",
    "平安志愿服务队",
)
UNIT_TEMPLATES = (
    ("科技有限公司", "company"),
    ("物业服务有限公司", "company"),
    ("社区卫生服务中心", "hospital"),
    ("第一小学", "school"),
    ("中学", "school"),
    ("党支部", "party_org"),
    ("联合党委", "party_org"),
    ("银行支行", "bank"),
    ("社工师事务所", "social_org"),
    ("街道图书馆", "government"),
)

# Columns written per table, in the order the row tuples give them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "network_site": (
        "id",
        "level",
        "kind",
        "parent_id",
        "path",
        "name",
        "code",
        "address",
        "latitude",
        "longitude",
        "contact_name",
        "contact_phone",
        "opening_hours",
        "description",
        "manager_id",
        "is_active",
        "created_at",
    ),
    "accounts_user": (
        "id",
        "password",
        "last_login",
        "is_superuser",
        "phone",
        "name",
        "is_active",
        "is_staff",
        "date_joined",
        "home_site_id",
        "registered_by_id",
    ),
    "accounts_profile": (
        "user_id",
        "id_number_encrypted",
        "id_number_hash",
        "id_number_masked",
        "gender",
        "birth_date",
        "address",
        "verified_at",
        "updated_at",
    ),
    "accounts_rolegrant": ("user_id", "role", "site_id", "granted_by_id", "granted_at"),
    "units_organization": (
        "id",
        "site_id",
        "name",
        "kind",
        "address",
        "is_council_member",
        "joined_at",
        "description",
    ),
    "units_liaison": ("organization_id", "user_id", "title", "since"),
    "volunteers_volunteer": (
        "id",
        "user_id",
        "site_id",
        "availability",
        "political_status",
        "work_unit_id",
        "work_unit_name",
        "joined_at",
        "is_active",
    ),
    "volunteers_volunteer_skills": ("volunteer_id", "skill_id"),
    "volunteers_team": ("id", "site_id", "name", "description", "created_at"),
    "volunteers_teammembership": ("team_id", "volunteer_id", "is_leader", "joined_at"),
    "volunteers_servicerecord": (
        "volunteer_id",
        "description",
        "site_id",
        "started_at",
        "ended_at",
        "hours",
        "source",
        "source_ref",
        "organiser_site_id",
        "organiser_unit_id",
        "recorder_id",
        "corrects_id",
        "note",
        "recorded_at",
    ),
}
TABLE_LABELS = {
    "network_site": "阵地",
    "accounts_user": "用户",
    "accounts_profile": "实名信息",
    "accounts_rolegrant": "角色授权",
    "units_organization": "共建单位",
    "units_liaison": "单位联络员",
    "volunteers_volunteer": "志愿者",
    "volunteers_volunteer_skills": "志愿者技能",
    "volunteers_team": "志愿服务队",
    "volunteers_teammembership": "队员",
    "volunteers_servicerecord": "服务时长记录",
}


class AlreadyGenerated(Exception):
    """The namespace of this seed is taken."""


@dataclass
class Stats:
    scale: str
    seed: int
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


def code_prefix(seed: int) -> str:
    return f"{CODE_PREFIX}{seed}-"


def is_generated(seed: int) -> bool:
    from wenming.network.models import Site

    return Site.objects.filter(code__startswith=code_prefix(seed)).exists()


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_STEP}d}."


# --- Writing rows ---------------------------------------------------------------------------


class Writer:
    """Reserve ids and insert rows on the current connection, inside a transaction."""

    SQLITE_BATCH = 20_000

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise ImproperlyConfigured(f"synth supports PostgreSQL and SQLite, not {self.vendor}")
        self.ts: Callable[[dt.datetime], Any]
        self.day: Callable[[dt.date], Any]
        if self.vendor == "sqlite":
            # What Django's SQLite backend stores: UTC, naive, ISO with a space.
            self.ts = lambda value: value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            self.day = dt.date.isoformat
        else:
            self.ts = lambda value: value
            self.day = lambda value: value

    def reserve(self, table: str, count: int) -> int:
        """The first of ``count`` consecutive free ids of ``table``; nobody else gets them."""
        if count <= 0:
            return 0
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                # The lock holds off other inserts (they take ROW EXCLUSIVE
                # before drawing from the sequence) until this street commits.
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                cursor.execute("SELECT nextval(%s)", [sequence])
                first = cursor.fetchone()[0]
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
                first = max(first, cursor.fetchone()[0] + 1)
                cursor.execute("SELECT setval(%s, %s, true)", [sequence, first + count - 1])
                return int(first)
            # SQLite: the transaction is IMMEDIATE, so the write lock is ours;
            # AUTOINCREMENT never reuses an id, so look at its counter as well.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            top = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
            return int(max(top, cursor.fetchone()[0]) + 1)

    def insert(self, table: str, rows: Iterable[Sequence[Any]]) -> int:
        columns = COLUMNS[table]
        names_sql = ", ".join(columns)
        count = 0
        raw = connection.connection
        assert raw is not None
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({names_sql}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        cursor = raw.cursor()
        try:
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= self.SQLITE_BATCH:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        finally:
            cursor.close()
        return count


# --- Generating a street -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    user_id: int
    gender: str


def _id_number(serial: int, gender: str) -> str:
    """A valid ID number unique to ``serial`` (a user id).

    The region code (31xxyy) and the birth date encode the serial, so no two
    users ever share a number, in one run or across runs and seeds; the demo's
    region codes are real Shanghai districts and never 3199xx.
    """
    block, rest = divmod(serial, 20_000 * 500)
    day, seq = divmod(rest, 500)
    region = f"{SYNTH_REGION}99{block % 100:02d}"
    birth = dt.date(1945, 1, 1) + dt.timedelta(days=(day * 7919) % 20_000)
    sequence = seq * 2 + (1 if gender == "M" else 0)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + cn_id.check_char(first17)


def _phone(serial: int) -> str:
    return f"{SYNTH_PHONE_PREFIX}{serial % 10**8:08d}"


class _StreetBuilder:
    def __init__(
        self,
        *,
        writer: Writer,
        scale: Scale,
        seed: int,
        district_id: int,
        district_path: str,
        district_no: int,
        street_no: int,
        password_hash: str,
        skill_ids: list[int],
        now: dt.datetime,
        stats: Stats,
    ) -> None:
        self.w = writer
        self.scale = scale
        self.seed = seed
        self.district_id = district_id
        self.district_path = district_path
        self.district_no = district_no
        self.street_no = street_no
        self.password_hash = password_hash
        self.skill_ids = skill_ids
        self.now = now
        self.today = timezone.localdate(now)
        self.stats = stats
        self.rng = random.Random(seed * 1_000_003 + district_no * 1_009 + street_no)  # noqa: S311 - not a secret

    def put(self, table: str, rows: Iterable[Sequence[Any]]) -> None:
        self.stats.rows[table] += self.w.insert(table, rows)

    def build(self) -> None:
        scale, rng, w = self.scale, self.rng, self.w
        n_stations = scale.stations_per_street
        n_points = n_stations * scale.points_per_station
        n_units = scale.units_per_street
        n_teams = scale.teams_per_street
        n_vol, n_res = scale.volunteers_per_street, scale.residents_per_street
        n_users = 1 + n_stations + n_vol + n_res + n_units

        site0 = w.reserve("network_site", 1 + n_stations + n_points)
        user0 = w.reserve("accounts_user", n_users)
        unit0 = w.reserve("units_organization", n_units)
        vol0 = w.reserve("volunteers_volunteer", n_vol)
        team0 = w.reserve("volunteers_team", n_teams)

        # Users by id: the sub-centre admin, one manager per station, then
        # volunteers, residents and unit liaisons.
        admin_id = user0
        manager_ids = [user0 + 1 + i for i in range(n_stations)]
        vol_user0 = user0 + 1 + n_stations
        res_user0 = vol_user0 + n_vol
        liaison0 = res_user0 + n_res

        # --- sites
        word = STREET_WORDS[(self.street_no - 1 + self.district_no * 3) % len(STREET_WORDS)]
        street_code = f"{code_prefix(self.seed)}D{self.district_no:02d}-S{self.street_no:02d}"
        row, col = divmod(self.street_no - 1, 4)
        drow, dcol = divmod(self.district_no - 1, 5)
        lat0 = ORIGIN_LAT + drow * DISTRICT_STEP + row * STREET_STEP
        lng0 = ORIGIN_LNG + dcol * DISTRICT_STEP + col * STREET_STEP
        street_id = site0
        street_path = self.district_path + _segment(street_id)
        created = w.ts(self.now)
        sites: list[tuple[Any, ...]] = [
            (
                street_id,
                SiteLevel.SUBCENTRE.value,
                SiteKind.STREET.value,
                self.district_id,
                street_path,
                f"合成第{self.district_no}区{word}路街道新时代文明实践分中心",
                street_code,
                f"{word}路{rng.randint(1, 500)}号",
                round(lat0, 6),
                round(lng0, 6),
                "",
                "",
                "周一至周日 8:30-20:30",
                "合成数据",
                admin_id,
                True,
                created,
            )
        ]
        station_ids = [site0 + 1 + i for i in range(n_stations)]
        station_paths: dict[int, str] = {}
        kinds: dict[int, str] = {}
        coords: dict[int, tuple[float, float]] = {}
        for i, sid in enumerate(station_ids):
            kind = SiteKind.PARTY_MASS if i == 5 else SiteKind.AREA if i < 7 else SiteKind.RESIDENTIAL
            label = STATION_WORDS[i % len(STATION_WORDS)] + ("" if i < len(STATION_WORDS) else str(i))
            title = (
                f"{label}市民驿站"
                if kind == SiteKind.AREA
                else f"{label}党群服务中心"
                if i == 5
                else (f"{label}居民区新时代文明实践站")
            )
            lat = round(lat0 + rng.uniform(-0.012, 0.012), 6)
            lng = round(lng0 + rng.uniform(-0.014, 0.014), 6)
            path = street_path + _segment(sid)
            station_paths[sid], kinds[sid], coords[sid] = path, kind.value, (lat, lng)
            sites.append(
                (
                    sid,
                    SiteLevel.STATION.value,
                    kind.value,
                    street_id,
                    path,
                    title,
                    f"{street_code}-T{i + 1:02d}",
                    f"{word}路{rng.randint(1, 900)}弄",
                    lat,
                    lng,
                    "",
                    _phone(manager_ids[i]),
                    "周一至周五 8:30-17:00",
                    "合成数据",
                    manager_ids[i],
                    True,
                    created,
                )
            )
        point_ids: list[int] = []
        point_parent: dict[int, int] = {}
        point_kinds = (SiteKind.BUILDING, SiteKind.PARK, SiteKind.COMPANY, SiteKind.SCHOOL)
        next_id = site0 + 1 + n_stations
        for i, sid in enumerate(station_ids):
            for j in range(scale.points_per_station):
                pid = next_id
                next_id += 1
                lat, lng = coords[sid]
                kind = point_kinds[(i + j) % len(point_kinds)]
                point_ids.append(pid)
                point_parent[pid] = sid
                sites.append(
                    (
                        pid,
                        SiteLevel.POINT.value,
                        kind.value,
                        sid,
                        station_paths[sid] + _segment(pid),
                        f"{sites[i + 1][5]}{kind.label}{j + 1}",
                        f"{street_code}-T{i + 1:02d}-P{j + 1}",
                        "",
                        round(lat + rng.uniform(-0.002, 0.002), 6),
                        round(lng + rng.uniform(-0.002, 0.002), 6),
                        "",
                        "",
                        "全天开放",
                        "合成数据",
                        None,
                        True,
                        created,
                    )
                )
        self.put("network_site", sites)

        residential = [sid for sid in station_ids if kinds[sid] == SiteKind.RESIDENTIAL] or station_ids
        manager_of = dict(zip(station_ids, manager_ids, strict=True))
        for pid, sid in point_parent.items():
            manager_of[pid] = manager_of[sid]
        manager_of[street_id] = admin_id

        # --- units (liaisons and volunteers' work units refer to them)
        unit_ids = [unit0 + i for i in range(n_units)]
        unit_site = {uid: rng.choice([street_id, *station_ids]) for uid in unit_ids}
        units = []
        for i, uid in enumerate(unit_ids):
            suffix, unit_kind = UNIT_TEMPLATES[i % len(UNIT_TEMPLATES)]
            units.append(
                (
                    uid,
                    unit_site[uid],
                    f"{word}{STATION_WORDS[i % len(STATION_WORDS)]}{suffix}",
                    unit_kind,
                    "",
                    rng.random() < 0.5,
                    w.day(self.today - dt.timedelta(days=rng.randint(100, 2000))),
                    "合成数据",
                )
            )
        self.put("units_organization", units)

        # --- people
        people: list[_Person] = []
        users: list[tuple[Any, ...]] = []
        grants: list[tuple[Any, ...]] = []

        def person(uid: int, home: int | None, *, staff: bool = False, registered_by: int | None = None) -> None:
            # The birth date comes with the ID number (see _id_number).
            gender = "M" if rng.random() < 0.5 else "F"
            joined = self.now - dt.timedelta(days=rng.randint(30, 1500), minutes=rng.randint(0, 1440))
            users.append(
                (
                    uid,
                    self.password_hash,
                    None,
                    False,
                    _phone(uid),
                    names.full_name(rng, gender),
                    True,
                    staff,
                    w.ts(joined),
                    home,
                    registered_by,
                )
            )
            people.append(_Person(uid, gender))

        person(admin_id, None, staff=True)
        grants.append((admin_id, "subcentre_admin", street_id, None, created))
        for sid, uid in zip(station_ids, manager_ids, strict=True):
            person(uid, sid)
            grants.append((uid, "station_manager", sid, admin_id, created))
        vol_sites: list[int] = []
        for i in range(n_vol):
            sid = rng.choice(residential) if rng.random() < 0.85 else rng.choice(station_ids)
            vol_sites.append(sid)
            person(vol_user0 + i, sid, registered_by=manager_of[sid])
            grants.append((vol_user0 + i, "volunteer", sid, manager_of[sid], created))
        for i in range(n_res):
            sid = rng.choice(residential)
            person(res_user0 + i, sid, registered_by=manager_of[sid])
            grants.append((res_user0 + i, "resident", sid, manager_of[sid], created))
        for i, uid in enumerate(unit_ids):
            sid = unit_site[uid]
            home = sid if sid != street_id else None
            person(liaison0 + i, home)
            grants.append((liaison0 + i, "unit_liaison", sid, manager_of[sid], created))
        self.put("accounts_user", users)

        verified = w.ts(self.now)
        masked = mask_id_number

        def profiles() -> Iterator[tuple[Any, ...]]:
            for p in people:
                number = _id_number(p.user_id, p.gender)
                # The 18-digit number carries the birth date; keep the profile's in step.
                born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
                yield (
                    p.user_id,
                    crypto.encrypt(number),
                    crypto.lookup_hash(number),
                    masked(number),
                    p.gender,
                    w.day(born),
                    "",
                    verified,
                    verified,
                )

        self.put("accounts_profile", profiles())

        # --- volunteers, skills, teams
        vol_ids = [vol0 + i for i in range(n_vol)]
        volunteers: list[tuple[Any, ...]] = []
        skills: list[tuple[int, int]] = []
        for i, vid in enumerate(vol_ids):
            uid = vol_user0 + i
            unit = rng.choice(unit_ids) if unit_ids and rng.random() < 0.3 else None
            volunteers.append(
                (
                    vid,
                    uid,
                    vol_sites[i],
                    json.dumps(availability(rng), ensure_ascii=False),
                    political_status(rng),
                    unit,
                    "" if unit else rng.choice(("已退休", "", "个体经营", "在校学生")),
                    w.day(self.today - dt.timedelta(days=rng.randint(400, 2500))),
                    True,
                )
            )
            skills.extend((vid, s) for s in rng.sample(self.skill_ids, rng.randint(1, 3)))
        self.put("volunteers_volunteer", volunteers)
        self.put("volunteers_volunteer_skills", skills)

        team_ids = [team0 + i for i in range(n_teams)]
        team_site = {tid: (street_id if i < 2 else station_ids[(i * 5) % n_stations]) for i, tid in enumerate(team_ids)}
        self.put(
            "volunteers_team",
            [
                (
                    tid,
                    team_site[tid],
                    TEAM_NAMES[i % len(TEAM_NAMES)] + ("" if i < len(TEAM_NAMES) else str(i)),
                    "合成数据",
                    created,
                )
                for i, tid in enumerate(team_ids)
            ],
        )
        members = []
        in_team = rng.sample(range(n_vol), int(n_vol * 0.6)) if n_teams else []
        for k, index in enumerate(in_team):
            tid = team_ids[k % n_teams]
            leader = k < n_teams
            members.append((tid, vol_ids[index], leader, created))
            if leader:
                grants.append((vol_user0 + index, "team_leader", team_site[tid], manager_of[team_site[tid]], created))
        self.put("volunteers_teammembership", members)
        self.put("units_liaison", [(uid, liaison0 + i, "联络员", created) for i, uid in enumerate(unit_ids)])
        self.put("accounts_rolegrant", grants)

        # --- the ledger: streamed, never held whole. Times are whole minutes
        # after midnight UTC today, formatted once per distinct minute.
        places = [street_id, *station_ids, *point_ids]
        midnight = self.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        formatted: dict[int, Any] = {}

        def at(minute: int) -> Any:
            value = formatted.get(minute)
            if value is None:
                value = formatted[minute] = w.ts(midnight + dt.timedelta(minutes=minute))
            return value

        # (description, source, [(elapsed minutes, credited hours)]): long
        # services include an unpaid half-hour break, so hours never exceed
        # the clock.
        service_kinds = [
            (
                description,
                str(source),
                [
                    (m, str((Decimal(m - (30 if m > 180 else 0)) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)))
                    for m in range(low, high + 1, 15)
                ],
            )
            for description, low, high, source in SERVICES
        ]
        ref = f"synth-{self.seed}"
        n_places = len(places)
        per_volunteer = scale.records_per_volunteer
        random_ = rng.random

        def ledger() -> Iterator[tuple[Any, ...]]:
            for i, vid in enumerate(vol_ids):
                home = vol_sites[i]
                for _ in range(per_volunteer):
                    site = home if random_() < 0.6 else places[int(random_() * n_places)]
                    description, source, durations = service_kinds[int(random_() * len(service_kinds))]
                    minutes, hours = durations[int(random_() * len(durations))]
                    # 3 to 365 days ago, starting 08:00-17:45 Shanghai time (00:00-09:45 UTC).
                    begins = -1440 * (3 + int(random_() * 363)) + 15 * int(random_() * 40)
                    ends = begins + minutes
                    yield (
                        vid,
                        description,
                        site,
                        at(begins),
                        at(ends),
                        hours,
                        source,
                        ref,
                        site,
                        None,
                        manager_of[site],
                        None,
                        "",
                        at(ends + 60 * (1 + int(random_() * 48))),
                    )

        self.put("volunteers_servicerecord", ledger())


# --- The run ---------------------------------------------------------------------------------------


def _ensure_skills() -> list[int]:
    Skill.objects.bulk_create([Skill(name=n, category=c) for n, c in SKILLS], ignore_conflicts=True)
    return list(Skill.objects.filter(name__in=[n for n, _ in SKILLS]).order_by("id").values_list("id", flat=True))


def generate(
    scale: Scale,
    *,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Stats:
    """Generate ``scale`` under the ``SYN{seed}-`` codes; refuse if they are taken."""
    if is_generated(seed):
        raise AlreadyGenerated(code_prefix(seed))
    stats = Stats(scale=scale.name, seed=seed)
    writer = Writer()
    # Every synthetic account signs in with the demo password; hashed once
    # (Argon2 takes a good part of a second), before the clock starts.
    password_hash = make_password(settings.DEMO_PASSWORD)
    started = time.perf_counter()
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        skill_ids = _ensure_skills()
        first = writer.reserve("network_site", scale.districts)
        districts = []
        for d in range(scale.districts):
            sid = first + d
            drow, dcol = divmod(d, 5)
            districts.append(
                (
                    sid,
                    SiteLevel.CENTRE.value,
                    SiteKind.DISTRICT.value,
                    None,
                    _segment(sid),
                    f"合成第{d + 1}区新时代文明实践中心",
                    f"{code_prefix(seed)}D{d + 1:02d}",
                    "",
                    round(ORIGIN_LAT + drow * DISTRICT_STEP, 6),
                    round(ORIGIN_LNG + dcol * DISTRICT_STEP, 6),
                    "",
                    "",
                    "",
                    "合成数据",
                    None,
                    True,
                    writer.ts(now),
                )
            )
        stats.rows["network_site"] += writer.insert("network_site", districts)
    done = 0
    for d, district in enumerate(districts, start=1):
        for s in range(1, scale.streets_per_district + 1):
            with transaction.atomic():
                _StreetBuilder(
                    writer=writer,
                    scale=scale,
                    seed=seed,
                    district_id=district[0],
                    district_path=district[4],
                    district_no=d,
                    street_no=s,
                    password_hash=password_hash,
                    skill_ids=skill_ids,
                    now=now,
                    stats=stats,
                ).build()
            done += 1
            if progress and (done == scale.streets or done % 10 == 0):
                elapsed = time.perf_counter() - started
                progress(f"  {done}/{scale.streets} 个街道，{stats.total:,} 行，{elapsed:.1f} 秒")
    stats.seconds = time.perf_counter() - started
    return stats
