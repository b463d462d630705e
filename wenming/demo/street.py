"""The demo street: 嘉禾路街道 in the fictional 和平区.

Its shape follows the 嘉兴路 report in the seeds ("1+7+27"): one
sub-centre, seven area stations (five 市民驿站, the party-mass centre and
the finance-street station) and twenty-seven residential stations, with a
few points under them. The figures the report quotes come out of the data:

- the street's rooms total 4,905 m² (the report's figure for its activity
  rooms): the sub-centre's twelve, among them a multimedia classroom, a
  lecture hall and an exhibition hall, the area stations' fourteen and the
  residential stations' thirty-three;
- the sub-centre building itself has 3,624.28 m² of usable floor area,
  which its description states.

Sites, venues, brands, projects, units, liaisons, staff roles, teams and
their leaders go through the services, as an operator (``actor=None``) or
as the platform admin. The few hundred volunteers, residents and ledger
entries are bulk-inserted with the same invariants the services keep:
encrypted ID numbers with their look-up hashes, unique phones and ID
numbers, a role grant for every person, an audit row for every
registration and ledger entry, hours never above the elapsed time.

Place names, people and phone numbers are invented; nothing here is a
real person from the seed reports.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from wenming.accounts.models import AuditAction, AuditLog, Profile, Role, RoleGrant, User
from wenming.accounts.services import grant_role, register_resident
from wenming.demo import names
from wenming.demo.activities import load_activities
from wenming.demo.orders import load_orders
from wenming.demo.people import SERVICES, SKILLS, Identities, availability, birth_date, political_status
from wenming.network.models import Brand, Project, Site, SiteKind, SiteLevel, Venue
from wenming.network.services import create_brand, create_project, create_site, create_venue
from wenming.units.models import Organization, OrganizationKind
from wenming.units.services import add_liaison, create_organization
from wenming.volunteers.models import ServiceRecord, ServiceSource, Skill, Team, TeamMembership, Volunteer
from wenming.volunteers.services import add_team_member, create_team, record_service, register_volunteer

SEED = 20201226
DISTRICT_CODE = "HP"
SUBCENTRE_CODE = "HP-JH"
CENTRE_LAT, CENTRE_LNG = 31.2600, 121.4900

VOLUNTEERS = 300
RESIDENTS = 300
LEDGER_ENTRIES = 1500

STREET_ROOMS_AREA_M2 = Decimal("4905.00")
SUBCENTRE_AREA_M2 = Decimal("1405.00")
RESIDENTIAL_ROOMS = 33
AREA_STATIONS_AREA_M2 = Decimal("1400.00")
RESIDENTIAL_AREA_M2 = STREET_ROOMS_AREA_M2 - SUBCENTRE_AREA_M2 - AREA_STATIONS_AREA_M2

# --- The tree -----------------------------------------------------------------------

# (code suffix, name, kind, road, number, opening hours, bearing°, distance m)
AREA_STATIONS: tuple[tuple[str, str, str, str, str, str, int, int], ...] = (
    ("Q1", "瑞景市民驿站", SiteKind.AREA, "瑞景路", "88号", "周一至周日 9:00-20:00", 20, 900),
    ("Q2", "梧桐市民驿站", SiteKind.AREA, "梧桐路", "301号", "周一至周日 9:00-20:00", 80, 1000),
    ("Q3", "临河市民驿站", SiteKind.AREA, "临河路", "45号", "周一至周六 9:00-19:30", 150, 950),
    ("Q4", "新港市民驿站", SiteKind.AREA, "新港路", "512号", "周一至周日 9:00-20:00", 220, 1000),
    ("Q5", "景华市民驿站", SiteKind.AREA, "景华路", "120号", "周一至周六 9:00-19:30", 290, 900),
    ("Q6", "嘉禾路街道党群服务中心", SiteKind.PARTY_MASS, "嘉禾路", "230号", "周一至周日 8:30-20:30", 340, 250),
    # The finance-street station is an area station too; the tree has no
    # separate kind for it, so its name says what it is.
    ("Q7", "嘉禾金融街党群服务站", SiteKind.AREA, "明珠路", "18号金融大厦1楼", "工作日 8:30-19:00", 110, 500),
)

# Twenty-seven residential areas (居民区), each near one of the area stations.
RESIDENTIAL_AREAS: tuple[tuple[str, str], ...] = (
    ("和乐", "Q1"),
    ("春晖", "Q1"),
    ("晨光", "Q1"),
    ("兰亭", "Q1"),
    ("安居", "Q2"),
    ("康宁", "Q2"),
    ("丰盛", "Q2"),
    ("锦绣", "Q2"),
    ("永兴", "Q3"),
    ("清风", "Q3"),
    ("明湖", "Q3"),
    ("福田", "Q3"),
    ("紫薇", "Q4"),
    ("青云", "Q4"),
    ("瑞祥", "Q4"),
    ("景苑", "Q4"),
    ("同心", "Q5"),
    ("翠竹", "Q5"),
    ("金秋", "Q5"),
    ("润园", "Q5"),
    ("嘉禾新村", "Q6"),
    ("河畔", "Q6"),
    ("百合", "Q6"),
    ("海棠", "Q7"),
    ("玉兰", "Q7"),
    ("星河", "Q7"),
    ("长乐", "Q7"),
)
RESIDENTIAL_ROADS = ("和乐路", "春晖路", "晨光路", "兰亭路", "嘉禾路", "梧桐路", "临河路", "新港路", "景华路", "明珠路")

# (code suffix, parent code suffix, name, kind, opening hours)
POINTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("P01", "Q7", "嘉禾中心大厦楼宇实践点", SiteKind.BUILDING, "工作日 9:00-18:00"),
    ("P02", "Q7", "明珠金融广场楼宇实践点", SiteKind.BUILDING, "工作日 9:00-18:00"),
    ("P03", "Q2", "梧桐公园实践点", SiteKind.PARK, "全天开放"),
    ("P04", "Q3", "临河滨江绿地实践点", SiteKind.PARK, "6:00-21:00"),
    ("P05", "Q4", "嘉禾科技有限公司实践点", SiteKind.COMPANY, "工作日 12:00-13:30"),
    ("P06", "R01", "嘉禾路第一小学实践点", SiteKind.SCHOOL, "周末及寒暑假预约开放"),
    ("P07", "R02", "梧桐中学实践点", SiteKind.SCHOOL, "周末及寒暑假预约开放"),
    ("P08", "Q5", "景华老街历史陈列馆实践点", SiteKind.OTHER, "周二至周日 9:30-16:30"),
    ("P09", "R01", "和乐小区三号楼楼组实践点", SiteKind.BUILDING, "每周三 14:00-16:00"),
    ("P10", "R02", "春晖口袋公园实践点", SiteKind.PARK, "全天开放"),
)

# --- Rooms ---------------------------------------------------------------------------

# (name, m², capacity, facilities, bookable); adds up to SUBCENTRE_AREA_M2.
SUBCENTRE_ROOMS: tuple[tuple[str, str, int, tuple[str, ...], bool], ...] = (
    ("多媒体教室", "120.00", 50, ("投影仪", "电子白板", "学员电脑30台", "音响", "空调"), True),
    ("报告厅", "320.00", 200, ("LED大屏", "专业音响", "无线话筒", "舞台灯光", "直播设备"), True),
    ("展厅", "260.00", 120, ("展板", "多媒体触摸屏", "语音导览", "恒温恒湿系统"), True),
    ("党员活动室", "80.00", 30, ("投影仪", "党建图书角", "会议桌椅"), True),
    ("书画室", "90.00", 24, ("书画桌", "文房四宝", "作品展示墙"), True),
    ("舞蹈排练厅", "130.00", 30, ("镜面墙", "把杆", "音响", "木地板"), True),
    ("健身房", "110.00", 20, ("跑步机", "动感单车", "力量器械", "淋浴间"), False),
    ("阅览室", "95.00", 40, ("图书5000册", "电子阅报屏", "自助借还机"), False),
    ("心理咨询室", "20.00", 3, ("沙盘", "放松椅", "隔音设施"), True),
    ("志愿者服务中心", "50.00", 15, ("服务台", "志愿者储物柜", "电脑"), False),
    ("社区学校教室", "70.00", 30, ("投影仪", "课桌椅", "白板"), True),
    ("多功能厅", "60.00", 40, ("活动座椅", "投影仪", "音响", "小舞台"), True),
)

# (name, m² low, m² high, people per m², facilities, bookable) for area stations.
AREA_ROOM_TYPES: tuple[tuple[str, int, int, float, tuple[str, ...], bool], ...] = (
    ("多功能活动厅", 300, 520, 0.5, ("音响", "投影仪", "活动座椅"), True),
    ("长者食堂", 220, 380, 0.4, ("就餐桌椅", "刷卡取餐机", "适老扶手"), False),
    ("图书阅览室", 160, 300, 0.3, ("图书", "电子阅报屏"), False),
    ("健身室", 180, 320, 0.15, ("健身器械", "乒乓球桌"), True),
    ("议事厅", 90, 160, 0.4, ("会议桌椅", "投影仪"), True),
    ("日间照料中心", 200, 360, 0.1, ("午休床位", "康复器材", "呼叫系统"), False),
    ("亲子活动室", 90, 160, 0.3, ("儿童绘本", "软垫", "益智玩具"), True),
)
RESIDENTIAL_ROOM_NAMES = ("综合活动室", "睦邻议事厅")

# --- Brands and projects ---------------------------------------------------------------

# (name, theme, description, [(project, claimable)])
SUBCENTRE_BRANDS: tuple[tuple[str, str, str, tuple[tuple[str, bool], ...]], ...] = (
    (
        "嘉禾研习",
        "理论学习",
        "既可理论学习，又可围坐研讨，还可开展理论宣讲和党课。",
        (("理论微课堂", False), ("板凳宣讲团", False), ("“四史”线上诵读", False)),
    ),
    (
        "嘉禾治慧",
        "社区治理",
        "党建引领社区治理，推进业委会规范化建设的实践和探索。",
        (("业委会规范化建设", False), ("住户公约宣讲团", True), ("楼组议事会", False)),
    ),
    (
        "嘉禾益家",
        "公益服务",
        "汇集区域化党建资源打造的公益服务平台，自助式提供公共空间和多元服务。",
        (("长者食堂", True), ("爱心理发", True), ("健康守护联盟", True), ("邻里互助站", False)),
    ),
    (
        "嘉禾圆梦",
        "市民修身",
        "开展多种形式的市民修身活动。",
        (("小微学堂", True), ("剪纸非遗习点", False), ("市民修身课堂", False)),
    ),
    (
        "嘉禾乐荟",
        "文化体育",
        "提供文化、体育等各类活动，丰富居民日常生活。",
        (("百姓舞台", False), ("翰墨迎春送福", True), ("全民健身节", True)),
    ),
    (
        "嘉禾故事",
        "历史人文",
        "挖掘嘉禾路历史人文故事，以时间轴讲述街区变迁。",
        (("老街记忆口述史", False), ("社区撰稿人", False)),
    ),
)
# "一站一品牌": the seven area stations' themes, as in the seed report.
AREA_BRANDS: dict[str, tuple[str, str, str]] = {
    "Q1": ("瑞景国学堂", "国学", "经典诵读班"),
    "Q2": ("梧桐时尚汇", "时尚", "旧衣新裁工作坊"),
    "Q3": ("临河睦邻家", "睦邻", "邻里节"),
    "Q4": ("新港楼宇红", "楼宇党建", "楼宇党员先锋岗"),
    "Q5": ("景华海派风", "海派", "海派文化讲坛"),
    "Q6": ("红色引擎", "基层党建", "党员双报到服务"),
    "Q7": ("金融街白领汇", "白领", "白领午间课堂"),
}
RESIDENTIAL_BRAND_SUFFIXES = (
    ("睦邻坊", "邻里互助"),
    ("银龄汇", "为老服务"),
    ("童心园", "少儿教育"),
    ("红色驿站", "党建引领"),
    ("绿色家园", "垃圾分类"),
    ("书香角", "全民阅读"),
    ("健康小屋", "健康促进"),
)
RESIDENTIAL_PROJECTS = {
    "邻里互助": "楼组结对帮扶",
    "为老服务": "独居老人敲门行动",
    "少儿教育": "四点半课堂",
    "党建引领": "在职党员认领微心愿",
    "垃圾分类": "垃圾分类指导岗",
    "全民阅读": "家门口读书会",
    "健康促进": "家庭医生健康讲座",
}

# --- Units, teams, services ----------------------------------------------------------------

# (name, kind, site code suffix or "" for the sub-centre, council member, liaison title)
UNITS: tuple[tuple[str, str, str, bool, str], ...] = (
    ("嘉禾科技有限公司", OrganizationKind.COMPANY, "Q4", True, "党支部书记"),
    ("明珠置业集团有限公司", OrganizationKind.COMPANY, "Q7", True, "行政经理"),
    ("梧桐物业服务有限公司", OrganizationKind.COMPANY, "Q2", False, "项目经理"),
    ("嘉禾路街道社区卫生服务中心", OrganizationKind.HOSPITAL, "", True, "公共卫生科科长"),
    ("和平区中心医院", OrganizationKind.HOSPITAL, "", True, "党委办公室主任"),
    ("嘉禾路第一小学", OrganizationKind.SCHOOL, "R01", True, "德育主任"),
    ("梧桐中学", OrganizationKind.SCHOOL, "R02", True, "团委书记"),
    ("和平区业余大学嘉禾教学点", OrganizationKind.SCHOOL, "", False, "教务员"),
    ("和平区税务局嘉禾税务所党支部", OrganizationKind.PARTY_ORG, "Q6", True, "支部书记"),
    ("明珠置业集团有限公司党委", OrganizationKind.PARTY_ORG, "Q7", True, "党委副书记"),
    ("嘉禾路“两新”组织联合党委", OrganizationKind.PARTY_ORG, "Q6", True, "组织委员"),
    ("和平银行嘉禾支行", OrganizationKind.BANK, "Q7", True, "支行行长"),
    ("嘉禾农商银行明珠路支行", OrganizationKind.BANK, "Q7", False, "综合柜员主管"),
    ("和平区图书馆嘉禾分馆", OrganizationKind.GOVERNMENT, "Q1", False, "馆长"),
    ("嘉禾社工师事务所", OrganizationKind.SOCIAL_ORG, "", True, "项目主管"),
    ("梧桐社区基金会", OrganizationKind.SOCIAL_ORG, "Q2", False, "秘书长"),
)

# (name, site code suffix or "" for the sub-centre, description, members)
TEAMS: tuple[tuple[str, str, str, int], ...] = (
    ("嘉禾小蜜蜂志愿服务队", "", "综合志愿服务：助老、清洁、活动保障。", 45),
    ("青禾青年志愿服务队", "", "青年和在校学生：课业辅导、科普讲解。", 35),
    ("银发先锋志愿服务队", "Q1", "退休党员为主：楼组巡访、理论宣讲。", 30),
    ("巾帼暖心志愿服务队", "Q2", "关爱“一老一小”和独居老人。", 30),
    ("医志同行志愿服务队", "Q3", "健康义诊、陪诊和健康讲座。", 25),
    ("法律明白人志愿服务队", "Q6", "法律咨询、矛盾调解。", 20),
    ("文明劝导志愿服务队", "Q4", "交通文明岗、垃圾分类指导、不文明行为劝导。", 35),
)


WORK_UNIT_NAMES = ("已退休", "个体经营", "自由职业", "在校学生", "社区工作者", "")


@dataclass(frozen=True)
class StaffSpec:
    phone: str
    name: str
    persona: str
    role: str
    where: str  # site code suffix, "" for the sub-centre, "*" for the whole platform
    gender: str


# The personas of conftest.py, so that the demo and the tests speak of the same people.
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("13800000000", "平台管理员", "平台管理员", Role.PLATFORM_ADMIN, "*", "M"),
    StaffSpec("13800000001", "周敏", "周主任", Role.SUBCENTRE_ADMIN, "", "F"),
    StaffSpec("13800000002", "张建华", "张站长", Role.STATION_MANAGER, "R01", "M"),
    StaffSpec("13800000003", "李秀兰", "李站长", Role.STATION_MANAGER, "R02", "F"),
    StaffSpec("13800000004", "赵志刚", "赵队长", Role.TEAM_LEADER, "", "M"),
    StaffSpec("13800000005", "陈小雨", "小陈", Role.VOLUNTEER, "R01", "F"),
    StaffSpec("13800000006", "王桂英", "王阿姨", Role.RESIDENT, "R01", "F"),
    StaffSpec("13800000007", "刘德胜", "刘大爷", Role.RESIDENT, "R02", "M"),
    StaffSpec("13800000008", "孙立新", "孙经理", Role.UNIT_LIAISON, "Q4", "M"),
    StaffSpec("13800000010", "钱丽娟", "瑞景站长", Role.STATION_MANAGER, "Q1", "F"),
    StaffSpec("13800000011", "孙海涛", "梧桐站长", Role.STATION_MANAGER, "Q2", "M"),
    StaffSpec("13800000012", "吴静怡", "临河站长", Role.STATION_MANAGER, "Q3", "F"),
    StaffSpec("13800000013", "郑国平", "新港站长", Role.STATION_MANAGER, "Q4", "M"),
    StaffSpec("13800000014", "冯玉梅", "景华站长", Role.STATION_MANAGER, "Q5", "F"),
    StaffSpec("13800000015", "何建军", "党群中心站长", Role.STATION_MANAGER, "Q6", "M"),
    StaffSpec("13800000016", "林晓东", "金融街站长", Role.STATION_MANAGER, "Q7", "M"),
)


@dataclass(frozen=True)
class DemoLogin:
    phone: str
    name: str
    persona: str
    role: str
    site: str


@dataclass
class DemoResult:
    created: bool
    logins: list[DemoLogin] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def is_loaded() -> bool:
    return Site.objects.filter(code=SUBCENTRE_CODE).exists()


def staff_phones_taken() -> list[str]:
    return sorted(User.objects.filter(phone__in=[s.phone for s in STAFF]).values_list("phone", flat=True))


def load(*, password: str | None = None) -> DemoResult:
    """Load the demo street once. A second call finds it and changes nothing."""
    if is_loaded():
        return DemoResult(created=False, logins=_logins())
    with transaction.atomic():
        # Checked again inside the transaction: two loaders racing both see
        # "not loaded" above, and the unique site code stops the second here.
        if is_loaded():
            return DemoResult(created=False, logins=_logins())
        builder = _Builder(password if password is not None else settings.DEMO_PASSWORD)
        builder.build()
    return DemoResult(created=True, logins=_logins(), counts=builder.counts)


def _logins() -> list[DemoLogin]:
    users = {u.phone: u for u in User.objects.filter(phone__in=[s.phone for s in STAFF])}
    sites = {s.code: s.name for s in Site.objects.filter(code__startswith=SUBCENTRE_CODE)}
    result = []
    for spec in STAFF:
        if spec.phone not in users:
            continue
        where = "全平台" if spec.where == "*" else sites.get(_code(spec.where), "")
        result.append(DemoLogin(spec.phone, users[spec.phone].name, spec.persona, str(Role(spec.role).label), where))
    return result


def _code(suffix: str) -> str:
    return f"{SUBCENTRE_CODE}-{suffix}" if suffix else SUBCENTRE_CODE


def _offset(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """A point ``distance_m`` away on a bearing (flat-earth, fine over a few km)."""
    rad = math.radians(bearing_deg)
    dlat = distance_m * math.cos(rad) / 111_320
    dlng = distance_m * math.sin(rad) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lng + dlng, 6)


def _split(total: Decimal, weights: list[float]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, to the cent, summing exactly."""
    cent = Decimal("0.01")
    scale = float(total) / sum(weights)
    parts = [Decimal(str(w * scale)).quantize(cent, rounding=ROUND_HALF_UP) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


class _Builder:
    def __init__(self, password: str) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 - demo data, not a secret
        self.ids = Identities(self.rng)
        self.password_hash = make_password(password)
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.sites: dict[str, Site] = {}
        self.staff: dict[str, User] = {}
        self.units: list[Organization] = []
        self.volunteers: list[Volunteer] = []
        self.counts: dict[str, int] = {}

    # -- orchestration ------------------------------------------------------------------

    def build(self) -> None:
        self.build_sites()
        self.build_venues()
        self.build_brands()
        self.build_staff()
        self.build_units()
        self.build_people()
        self.build_teams()
        self.build_ledger()
        rng = random.Random(SEED + 1)  # noqa: S311 - demo data, not a secret
        activity_counts = load_activities(self.sites, self.staff, self.volunteers, rng=rng)
        order_counts = load_orders(self.sites, self.staff, self.volunteers, rng=random.Random(SEED + 2))  # noqa: S311
        here = list(self.sites.values())
        self.counts = {
            "阵地": len(here),
            "场地": Venue.objects.filter(site__in=here).count(),
            "品牌": Brand.objects.filter(site__in=here).count(),
            "项目": Project.objects.filter(brand__site__in=here).count(),
            "共建单位": len(self.units),
            "志愿服务队": Team.objects.filter(site__in=here).count(),
            "志愿者": Volunteer.objects.filter(site__in=here).count(),
            "居民": RoleGrant.objects.filter(role=Role.RESIDENT, site__in=here).count(),
            "服务时长记录": ServiceRecord.objects.filter(site__in=here).count(),
            **activity_counts,
            **order_counts,
        }

    def site(self, suffix: str) -> Site:
        return self.sites[_code(suffix)]

    def contact(self, gender: str | None = None) -> tuple[str, str]:
        return names.full_name(self.rng, gender), self.ids.phone()

    # -- the tree ------------------------------------------------------------------------

    def build_sites(self) -> None:
        district = create_site(
            actor=None,
            parent=None,
            level=SiteLevel.CENTRE,
            name="和平区新时代文明实践中心",
            code=DISTRICT_CODE,
            kind=SiteKind.DISTRICT,
            address="和平区文明路1号",
            latitude=31.2530,
            longitude=121.4820,
            contact_name="和平区文明办",
            contact_phone="021-63000000",
            opening_hours="工作日 9:00-17:00",
            description="和平区新时代文明实践中心（演示数据）。",
        )
        self.sites[DISTRICT_CODE] = district
        name, phone = self.contact("F")
        sub = create_site(
            actor=None,
            parent=district,
            level=SiteLevel.SUBCENTRE,
            name="嘉禾路街道新时代文明实践分中心",
            code=SUBCENTRE_CODE,
            kind=SiteKind.STREET,
            address="嘉禾路216号",
            latitude=CENTRE_LAT,
            longitude=CENTRE_LNG,
            contact_name=name,
            contact_phone=phone,
            opening_hours="周一至周日 8:30-20:30",
            description=(
                "由原街道文化活动中心改建，整合党群服务中心、志愿服务中心、文化活动中心、青年中心、妇女之家、"
                "社区学校等阵地资源，可用面积3624.28平方米。“1+7+27”三级阵地：1个分中心、7个片区实践站、"
                "27个居民区实践站。"
            ),
        )
        self.sites[SUBCENTRE_CODE] = sub
        for suffix, title, kind, road, number, hours, bearing, distance in AREA_STATIONS:
            lat, lng = _offset(CENTRE_LAT, CENTRE_LNG, bearing, distance)
            name, phone = self.contact()
            self.sites[_code(suffix)] = create_site(
                actor=None,
                parent=sub,
                level=SiteLevel.STATION,
                name=title,
                code=_code(suffix),
                kind=kind,
                address=f"{road}{number}",
                latitude=lat,
                longitude=lng,
                contact_name=name,
                contact_phone=phone,
                opening_hours=hours,
                description=f"{title}：片区新时代文明实践站，划片负责周边居民区。",
            )
        for index, (area, zone) in enumerate(RESIDENTIAL_AREAS, start=1):
            parent_zone = self.site(zone)
            assert parent_zone.latitude is not None
            assert parent_zone.longitude is not None
            lat, lng = _offset(
                parent_zone.latitude, parent_zone.longitude, self.rng.uniform(0, 360), self.rng.uniform(200, 600)
            )
            road = self.rng.choice(RESIDENTIAL_ROADS)
            name, phone = self.contact()
            suffix = f"R{index:02d}"
            self.sites[_code(suffix)] = create_site(
                actor=None,
                parent=sub,
                level=SiteLevel.STATION,
                name=f"{area}居民区新时代文明实践站",
                code=_code(suffix),
                kind=SiteKind.RESIDENTIAL,
                address=f"{road}{self.rng.randrange(20, 900, 2)}弄{self.rng.randint(1, 40)}号",
                latitude=lat,
                longitude=lng,
                contact_name=name,
                contact_phone=phone,
                opening_hours="周一至周五 8:30-17:00；周六 9:00-11:30",
                description=f"{area}居民区实践站，立足小型化、日常化，打造居民家门口的文明实践。",
            )
        for suffix, parent_suffix, title, kind, hours in POINTS:
            parent = self.site(parent_suffix)
            assert parent.latitude is not None
            assert parent.longitude is not None
            lat, lng = _offset(parent.latitude, parent.longitude, self.rng.uniform(0, 360), self.rng.uniform(80, 300))
            name, phone = self.contact()
            self.sites[_code(suffix)] = create_site(
                actor=None,
                parent=parent,
                level=SiteLevel.POINT,
                name=title,
                code=_code(suffix),
                kind=kind,
                address=f"{self.rng.choice(RESIDENTIAL_ROADS)}{self.rng.randint(1, 600)}号",
                latitude=lat,
                longitude=lng,
                contact_name=name,
                contact_phone=phone,
                opening_hours=hours,
                description="一点一特色。",
            )

    # -- rooms ----------------------------------------------------------------------------

    def build_venues(self) -> None:
        sub = self.site("")
        for name, size, capacity, facilities, bookable in SUBCENTRE_ROOMS:
            create_venue(
                actor=None,
                site=sub,
                name=name,
                area_m2=size,
                capacity=capacity,
                facilities=list(facilities),
                is_bookable=bookable,
            )

        area_rooms: list[tuple[Site, str, float, float, tuple[str, ...], bool]] = []
        for suffix, *_rest in AREA_STATIONS:
            station = self.site(suffix)
            count = 2
            for name, low, high, density, facilities, bookable in self.rng.sample(AREA_ROOM_TYPES, count):
                area_rooms.append((station, name, self.rng.uniform(low, high), density, facilities, bookable))
        areas = _split(AREA_STATIONS_AREA_M2, [room[2] for room in area_rooms])
        for (station, name, _weight, density, facilities, bookable), area in zip(area_rooms, areas, strict=True):
            create_venue(
                actor=None,
                site=station,
                name=name,
                area_m2=area,
                capacity=max(8, int(float(area) * density)),
                facilities=list(facilities),
                is_bookable=bookable,
            )

        residential = [s for code, s in self.sites.items() if s.kind == SiteKind.RESIDENTIAL]
        two_rooms = set(self.rng.sample(range(len(residential)), RESIDENTIAL_ROOMS - len(residential)))
        rooms: list[tuple[Site, str]] = []
        for index, station in enumerate(residential):
            count = 2 if index in two_rooms else 1
            rooms.extend((station, RESIDENTIAL_ROOM_NAMES[i]) for i in range(count))
        areas = _split(RESIDENTIAL_AREA_M2, [self.rng.uniform(80, 240) for _ in rooms])
        for (station, name), area in zip(rooms, areas, strict=True):
            create_venue(
                actor=None,
                site=station,
                name=name,
                area_m2=area,
                capacity=max(10, int(float(area) / 3)),
                facilities=["桌椅", "投影仪", "空调"] if name == "综合活动室" else ["会议桌", "白板"],
            )

    # -- brands -----------------------------------------------------------------------------

    def build_brands(self) -> None:
        sub = self.site("")
        for name, theme, description, projects in SUBCENTRE_BRANDS:
            brand = create_brand(actor=None, site=sub, name=name, theme=theme, description=description)
            for project, claimable in projects:
                create_project(actor=None, brand=brand, name=project, is_claimable=claimable)
        for suffix, (name, theme, project) in AREA_BRANDS.items():
            brand = create_brand(
                actor=None, site=self.site(suffix), name=name, theme=theme, description=f"一站一品牌：{theme}。"
            )
            create_project(actor=None, brand=brand, name=project, is_claimable=True)
        for index, (area, _zone) in enumerate(RESIDENTIAL_AREAS, start=1):
            suffix, theme = RESIDENTIAL_BRAND_SUFFIXES[(index - 1) % len(RESIDENTIAL_BRAND_SUFFIXES)]
            brand = create_brand(
                actor=None,
                site=self.site(f"R{index:02d}"),
                name=f"{area}{suffix}",
                theme=theme,
                description=f"一站一品牌：{theme}。",
            )
            create_project(actor=None, brand=brand, name=RESIDENTIAL_PROJECTS[theme], is_claimable=index % 3 == 0)

    # -- staff -------------------------------------------------------------------------------

    def _user(self, phone: str, name: str, *, home: Site | None, is_staff: bool = False, **extra: object) -> User:
        user = User(
            phone=phone,
            name=name,
            password=self.password_hash,
            home_site=home,
            is_staff=is_staff,
            date_joined=self.now,
            **extra,
        )
        user.save()
        return user

    def build_staff(self) -> None:
        admin_spec = STAFF[0]
        admin = self._user(admin_spec.phone, admin_spec.name, home=None, is_staff=True, is_superuser=True)
        # Bootstrap: nobody can grant the first platform admin role.
        RoleGrant.objects.create(user=admin, role=Role.PLATFORM_ADMIN, site=None)
        self.staff[admin_spec.phone] = admin
        self.admin = admin
        for spec in STAFF[1:]:
            home = self.site(spec.where)
            if spec.role == Role.RESIDENT:
                # 代注册 through the service, by the manager of the resident's station.
                born = birth_date(self.rng, min_age=66, max_age=85, today=self.today)
                user = register_resident(
                    actor=home.manager or admin,
                    site=home,
                    phone=spec.phone,
                    name=spec.name,
                    id_number=self.ids.id_number(born=born, gender=spec.gender),
                    address=home.address,
                )
                User.objects.filter(pk=user.pk).update(password=self.password_hash)
                self.staff[spec.phone] = user
                continue
            user = self._user(spec.phone, spec.name, home=home if home.level >= SiteLevel.STATION else None)
            self.staff[spec.phone] = user
            self._profile(user, spec.gender, address=home.address)
            if spec.role in (Role.SUBCENTRE_ADMIN, Role.STATION_MANAGER):
                grant_role(actor=admin, user=user, role=spec.role, site=home)
                if spec.role == Role.STATION_MANAGER:
                    Site.objects.filter(pk=home.pk).update(manager=user)
                    home.manager = user
        # Every site without a manager of its own is run by the sub-centre admin.
        self.subcentre_admin = self.staff["13800000001"]

    def _profile(self, user: User, gender: str, *, address: str = "", born: dt.date | None = None) -> Profile:
        born = born or birth_date(self.rng, min_age=25, max_age=60, today=self.today)
        profile = Profile(user=user, gender=gender, birth_date=born, address=address, verified_at=self.now)
        profile.set_id_number(self.ids.id_number(born=born, gender=gender))
        profile.save()
        return profile

    # -- units --------------------------------------------------------------------------------

    def build_units(self) -> None:
        liaison_spec = next(s for s in STAFF if s.role == Role.UNIT_LIAISON)
        for name, kind, suffix, council, title in UNITS:
            site = self.site(suffix)
            unit = create_organization(
                actor=None, site=site, name=name, kind=kind, address=site.address, is_council_member=council
            )
            joined = self.today - dt.timedelta(days=self.rng.randint(200, 1500))
            Organization.objects.filter(pk=unit.pk).update(joined_at=joined)
            self.units.append(unit)
            if suffix == liaison_spec.where and unit.kind == OrganizationKind.COMPANY:
                person = self.staff[liaison_spec.phone]
            else:
                gender = self.rng.choice("MF")
                person = self._user(
                    self.ids.phone(),
                    names.full_name(self.rng, gender),
                    home=site if site.level >= SiteLevel.STATION else None,
                )
            add_liaison(actor=None, organization=unit, user=person, title=title)

    # -- volunteers and residents --------------------------------------------------------------

    def build_people(self) -> None:
        stations = [s for s in self.sites.values() if s.level == SiteLevel.STATION]
        residential = [s for s in stations if s.kind == SiteKind.RESIDENTIAL]
        areas = [s for s in stations if s.kind != SiteKind.RESIDENTIAL]
        Skill.objects.bulk_create([Skill(name=n, category=c) for n, c in SKILLS], ignore_conflicts=True)
        skills = list(Skill.objects.filter(name__in=[n for n, _ in SKILLS]).order_by("name"))
        sub = self.site("")

        # The staff volunteer and the staff team leader go through the service.
        volunteer_spec = next(s for s in STAFF if s.role == Role.VOLUNTEER)
        leader_spec = next(s for s in STAFF if s.role == Role.TEAM_LEADER)
        self.staff_volunteer = register_volunteer(
            actor=None,
            user=self.staff[volunteer_spec.phone],
            site=self.site(volunteer_spec.where),
            skills=[s for s in skills if s.name in ("摄影", "计算机")],
            availability={"sat": ["morning", "afternoon"], "sun": ["morning"]},
            political_status="league_member",
            work_unit_name="在校学生",
        )
        self.staff_leader = register_volunteer(
            actor=None,
            user=self.staff[leader_spec.phone],
            site=sub,
            skills=[s for s in skills if s.name in ("理发", "家电维修", "应急救护")],
            availability={"mon": ["morning"], "wed": ["morning"], "sat": ["morning", "afternoon"]},
            political_status="party_member",
            work_unit_name="已退休",
        )

        def person(station: Site, min_age: int, max_age: int) -> tuple[User, Profile]:
            gender = self.rng.choice("MF")
            born = birth_date(self.rng, min_age=min_age, max_age=max_age, today=self.today)
            user = User(
                phone=self.ids.phone(),
                name=names.full_name(self.rng, gender),
                password=self.password_hash,
                home_site=station,
                date_joined=self.now - dt.timedelta(days=self.rng.randint(30, 900)),
                registered_by=station.manager or self.subcentre_admin,
            )
            profile = Profile(
                user=user,
                gender=gender,
                birth_date=born,
                verified_at=self.now,
                address=f"{station.name.removesuffix('新时代文明实践站')}{self.rng.randint(1, 60)}号"
                f"{self.rng.randint(1, 6)}0{self.rng.randint(1, 4)}室",
            )
            profile.set_id_number(self.ids.id_number(born=born, gender=gender))
            return user, profile

        people: list[tuple[User, Profile, Site, bool]] = []
        for _ in range(VOLUNTEERS):
            station = self.rng.choice(residential) if self.rng.random() < 0.8 else self.rng.choice(areas)
            user, profile = person(station, 16, 78)
            people.append((user, profile, station, True))
        for _ in range(RESIDENTS):
            station = self.rng.choice(residential)
            user, profile = person(station, 18, 92)
            people.append((user, profile, station, False))

        User.objects.bulk_create([u for u, *_ in people])
        for user, profile, *_ in people:
            profile.user = user
        Profile.objects.bulk_create([p for _, p, *_ in people])

        grants = [
            RoleGrant(
                user=u,
                role=Role.VOLUNTEER if vol else Role.RESIDENT,
                site=station,
                granted_by=station.manager or self.subcentre_admin,
                granted_at=u.date_joined,
            )
            for u, _, station, vol in people
        ]
        RoleGrant.objects.bulk_create(grants)
        AuditLog.objects.bulk_create(
            [
                AuditLog(
                    created_at=u.date_joined,
                    actor=station.manager or self.subcentre_admin,
                    action=AuditAction.USER_REGISTERED,
                    target_type="accounts.user",
                    target_id=str(u.pk),
                    site=station,
                    detail={"source": "demo"},
                )
                for u, _, station, vol in people
                if not vol
            ]
        )

        volunteers = []
        for user, profile, station, vol in people:
            if not vol:
                continue
            assert profile.birth_date is not None
            age = (self.today - profile.birth_date).days // 365
            unit = self.rng.choice(self.units) if age < 60 and self.rng.random() < 0.35 else None
            work_name = (
                ""
                if unit
                else ("已退休" if age >= 60 else "在校学生" if age < 22 else self.rng.choice(WORK_UNIT_NAMES))
            )
            volunteers.append(
                Volunteer(
                    user=user,
                    site=station,
                    availability=availability(self.rng),
                    political_status=political_status(self.rng) if age >= 18 else "league_member",
                    work_unit=unit,
                    work_unit_name=work_name,
                    joined_at=(self.today - dt.timedelta(days=self.rng.randint(400, 2000))),
                )
            )
        Volunteer.objects.bulk_create(volunteers)
        through = Volunteer.skills.through
        through.objects.bulk_create(
            [
                through(volunteer_id=v.pk, skill_id=skill.pk)
                for v in volunteers
                for skill in self.rng.sample(skills, self.rng.randint(1, 3))
            ]
        )
        self.volunteers = [self.staff_leader, self.staff_volunteer, *volunteers]

    # -- teams --------------------------------------------------------------------------------

    def build_teams(self) -> None:
        pool = self.volunteers[2:]
        for index, (name, suffix, description, members) in enumerate(TEAMS):
            team = create_team(actor=None, site=self.site(suffix), name=name, description=description)
            leader = self.staff_leader if index == 0 else pool[index * 13]
            add_team_member(actor=None, team=team, volunteer=leader, is_leader=True)
            chosen = [v for v in self.rng.sample(pool, members + 1) if v.pk != leader.pk][:members]
            if index == 0:
                chosen.append(self.staff_volunteer)
            TeamMembership.objects.bulk_create(
                [
                    TeamMembership(
                        team=team, volunteer=v, joined_at=self.now - dt.timedelta(days=self.rng.randint(30, 700))
                    )
                    for v in chosen
                ]
            )

    # -- the hours ledger --------------------------------------------------------------------------

    def build_ledger(self) -> None:
        sub = self.site("")
        places = [s for s in self.sites.values() if s.level >= SiteLevel.SUBCENTRE]
        # A few entries through the service, as a station manager records them.
        manager = self.staff["13800000002"]
        station = self.site("R01")
        start = (self.now - dt.timedelta(days=3)).replace(hour=1, minute=30, second=0, microsecond=0)
        for offset, (description, minutes) in enumerate((("爱心理发", 150), ("垃圾分类指导", 90), ("理论宣讲", 60))):
            begins = start - dt.timedelta(days=7 * offset)
            record_service(
                actor=manager,
                volunteer=self.staff_volunteer,
                site=station,
                description=description,
                started_at=begins,
                ended_at=begins + dt.timedelta(minutes=minutes),
                source=ServiceSource.ACTIVITY,
            )

        entries: list[ServiceRecord] = []
        cent = Decimal("0.01")
        for _ in range(LEDGER_ENTRIES):
            volunteer = self.rng.choice(self.volunteers)
            place = volunteer.site if self.rng.random() < 0.6 else self.rng.choice(places)
            description, low, high, source = self.rng.choice(SERVICES)
            minutes = self.rng.randrange(low, high + 1, 15)
            days_ago = self.rng.randint(4, 360)
            # Services start between 08:00 and 18:00 Shanghai time (00:00-10:00 UTC).
            begins = (self.now - dt.timedelta(days=days_ago)).replace(
                hour=self.rng.randint(0, 9), minute=self.rng.choice((0, 30)), second=0, microsecond=0
            )
            ends = begins + dt.timedelta(minutes=minutes)
            # Long services include an unpaid break: hours never exceed the clock.
            credited = minutes - (30 if minutes > 180 else 0)
            hours = (Decimal(credited) / Decimal(60)).quantize(cent, rounding=ROUND_HALF_UP)
            recorder = place.manager or self.subcentre_admin
            entries.append(
                ServiceRecord(
                    volunteer=volunteer,
                    description=description,
                    site=place,
                    started_at=begins,
                    ended_at=ends,
                    hours=hours,
                    source=source,
                    source_ref="",
                    organiser_site=place if place.level > 2 else sub,
                    recorder=recorder,
                    recorded_at=ends + dt.timedelta(hours=self.rng.randint(1, 48)),
                )
            )
        ServiceRecord.objects.bulk_create(entries)
        AuditLog.objects.bulk_create(
            [
                AuditLog(
                    created_at=e.recorded_at,
                    actor=e.recorder,
                    action=AuditAction.LEDGER_ENTRY,
                    target_type="volunteers.servicerecord",
                    target_id=str(e.pk),
                    site=e.site,
                    detail={"hours": str(e.hours), "source": "demo"},
                )
                for e in entries
            ]
        )
