"""A year of activities for the demo street (嘉禾路街道), relative to today.

``load_activities`` gives the street of ``street.py`` the rhythm the seeds
describe, "年有计划、月有主题、周有活动":

- a yearly plan with twelve monthly themes (理论学习, 垃圾分类, 文明养犬,
  重阳敬老, 学雷锋, 国庆, 春节 …) for the sub-centre, every year the demo
  touches, and for the seven area stations and 和乐 (张站长's station) this
  year and the next;
- a year of past activities on all five platforms and in all six lecture
  formats: the sub-centre about five a month plus its big days (学雷锋日,
  世界读书日, 七一, 全民健身日, 国庆, 中秋, 重阳, 宪法日, 国际志愿者日, 写春联
  before 春节 …), each area station about three a month in its own brand,
  each residential station about two; the weekly 周三书法班 at the
  sub-centre all year, and a station's weekly 白领午间瑜伽 that goes through
  approval; residents' sign-ups with cancellations, waitlists and
  promotions, check-ins at the door (80–90 % turnout), volunteer posts with
  check-in and check-out so that the hours land in the ledger, two hours
  corrections (one approved, one pending) and recaps;
- the coming weeks: this week and next in full, the two after that with
  what the sub-centre and the area stations have published already; seats
  filling up, a class full with people waiting, one activity waiting for
  approval, one draft, one called off for the weather;
- venue bookings by residents and units over the last ten weeks and the
  next four: checked in, no-shows, rejected with a reason, cancelled,
  pending and approved, never overlapping each other or an activity's hold.

How it writes
-------------
Through the services, as the person who would do it, wherever the volume
allows: plans and themes, the two series (``create_series``,
``submit_series``, ``approve_activity``, ``skip_occurrence``), every activity
of the last two days and of the weeks ahead (``create_activity``,
``submit_activity``, ``approve_activity``, ``cancel_activity``; publishing
holds the room through ``hold_venue_for_activity``), their sign-ups,
cancellations and waitlist promotions, check-ins and check-outs
(``sign_up``, ``cancel_signup``, ``check_in``, ``self_check_in``,
``check_out``), completion (``complete_activity``), recaps (``publish_recap``),
hours corrections (``request_hours_correction``, ``decide_hours_correction``),
booking rules and every booking (``save_venue_rules``, ``request_booking``,
``approve_booking``, ``reject_booking``, ``cancel_booking``,
``check_in_booking``, ``release_no_shows``). Every service that takes a
clock (``now=``) is given the moment it would have happened.

The year before that is written straight into the tables (``write_bulk``,
with ``_Table``): a thousand activities with fifteen thousand sign-ups take
over a minute through the services on PostgreSQL (about 100 ms an activity
with its sign-ups and check-ins, measured), where the whole demo should
load in seconds; and the services stamp the wall clock on rows that are
append-only (the ledger and its audit rows), so a check-out months ago
would read as recorded today. The rows keep the services' invariants by
construction: counters equal their rows (the sign-ups are replayed in time
order with the service's own rules for seats, waitlist and promotion),
sign-up codes are unique per activity, hours are ``services.hours_served``
of the check-in and check-out, a ledger entry's ``source_ref`` names its
sign-up and has its audit row, and no two holds of a room overlap (a
calendar here; PostgreSQL's exclusion constraint checks it again). The
tests check all of it on both databases.

Back-dating: a few services stamp the wall clock and take no ``now=``
(an activity's ``created_at`` and ``published_at``, its status history, the
hold's booking and history rows, a recap's ``published_at``, a series'
``created_at``). Those rows are moved afterwards to when they would have
happened, so that nothing reads as published after people signed up. The
ledger and audit rows that the last two days' check-outs wrote keep the load
time: they are append-only.

Notices: none are sent. The services queue a notice for every sign-up,
approval and booking decision they make here (several hundred), to be
delivered after the commit on every configured channel; the demo's people
are invented, and an invented phone number may be somebody's. ``_unsent``
drops them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from wenming.accounts.models import AuditAction, AuditLog, Role, User
from wenming.activities import services as activity_services
from wenming.activities.models import (
    Activity,
    ActivityStatus,
    Audience,
    LectureFormat,
    Plan,
    Platform,
    Post,
    Recap,
    Series,
    Signup,
    SignupKind,
    SignupStatus,
    StatusChange,
)
from wenming.bookings import services as booking_services
from wenming.bookings.models import Booking, BookingStatus
from wenming.bookings.models import StatusChange as BookingChange
from wenming.core.errors import DomainError
from wenming.demo.synth import Writer
from wenming.lib import holidays
from wenming.lib.geo import haversine_m
from wenming.network.models import Project, Site, SiteKind, SiteLevel, Venue
from wenming.notices import services as notice_services
from wenming.units.models import Liaison
from wenming.volunteers.models import ServiceRecord, ServiceSource, Volunteer

HISTORY = dt.timedelta(days=365)
# Past activities that started within this window go through the services.
SERVICE_WINDOW = dt.timedelta(days=2)
# Hours corrections are asked for activities of the last fortnight.
CORRECTIONS_BACK = dt.timedelta(days=14)
WEEKS_AHEAD = 4
# Beyond two weeks ahead only the sub-centre and the area stations have published.
FULL_AHEAD = dt.timedelta(days=14)
BOOKINGS_BACK = dt.timedelta(days=70)
WEEK = dt.timedelta(days=7)
# Seats at most, by host: a residential room, an area station's hall, the sub-centre's lecture hall.
SEAT_CAP = {"res": 16, "area": 36, "sub": 100}
CODE_ALPHABET = activity_services.CODE_ALPHABET
SUBCENTRE = "HP-JH"

THEORY, EDUCATION, CULTURE, SCIENCE, FITNESS = (
    Platform.THEORY,
    Platform.EDUCATION,
    Platform.CULTURE,
    Platform.SCIENCE,
    Platform.FITNESS,
)
HALL, BENCH, CORRIDOR, CORNER, ONLINE, FILM = (
    LectureFormat.HALL,
    LectureFormat.BENCH,
    LectureFormat.CORRIDOR,
    LectureFormat.CORNER,
    LectureFormat.ONLINE,
    LectureFormat.FILM,
)
OUTDOOR = "outdoor"  # a place sentinel: the host's garden, square or park point
WECHAT = "“嘉禾佳话”微信公众号"

# --- Plans --------------------------------------------------------------------------

# 月有主题: the sub-centre's twelve themes, drawn from the seed reports and the calendar.
MONTHLY_THEMES: dict[int, tuple[str, str]] = {
    1: ("翰墨迎春 送福到家", "写春联、送福字，“翰墨丹青溢书香”，把新春祝福送到居民家门口。"),
    2: ("欢乐春节 邻里同庆", "春节、元宵期间开展民俗文化活动，走访慰问独居老人。"),
    3: ("学雷锋 志愿服务月", "弘扬“奉献、友爱、互助、进步”的志愿精神，志愿服务进楼组。"),
    4: ("全民阅读 书香嘉禾", "围绕世界读书日开展读书分享、亲子阅读；清明节缅怀革命先烈。"),
    5: ("科技活动周 科普进社区", "科普讲座、科学实验和智能手机课堂，帮助老年人跨越“数字鸿沟”。"),
    6: ("垃圾分类 绿色生活", "巩固垃圾分类“新时尚”，桶边指导、知识竞赛、旧物改造。"),
    7: ("理论学习 党的创新理论进万家", "七一前后开展主题党课，讲堂、板凳、长廊、墙角、线上、观影多形式宣讲。"),
    8: ("全民健身 活力嘉禾", "全民健身日系列活动，暑期爱心托管，夏季防暑健康讲座。"),
    9: ("喜迎国庆 爱我中华", "爱国主义教育、红歌合唱、中秋游园，营造喜迎国庆的浓厚氛围。"),
    10: ("重阳敬老 孝老爱亲", "重阳节长者生日会、敬老义诊，弘扬孝亲敬老的传统美德。"),
    11: ("文明养犬 文明创建", "文明养犬宣传、飞线充电排查劝导、消防安全演练，助力文明城区创建。"),
    12: ("宪法宣传 志愿同行", "宪法宣传周法律咨询，国际志愿者日表彰优秀志愿者，冬至暖心活动。"),
}
# The stations with a plan of their own; each keeps the sub-centre's themes except where its brand leads.
PLAN_STATIONS = ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "R01")
STATION_THEMES: dict[str, dict[int, str]] = {
    "Q1": {1: "国学迎春 春联里的中国年", 4: "经典诵读 国学月"},
    "Q2": {6: "旧衣新裁 低碳时尚", 8: "时尚健身 活力驿站"},
    "Q3": {2: "邻里节 睦邻一家亲", 9: "月圆中秋 邻里情浓"},
    "Q4": {7: "楼宇党建 先锋在身边"},
    "Q5": {5: "海派文化讲坛月", 10: "海派长者 敬老月"},
    "Q6": {7: "红色引擎 党员双报到", 12: "宪法宣传 党员先行"},
    "Q7": {3: "白领志愿 雷锋在楼宇", 7: "白领学习季 理论微课堂"},
    "R01": {6: "垃圾分类 和乐先行"},
}

# Lunar festivals by year (春节, 元宵, 端午, 中秋, 重阳), for the big days that follow them.
LUNAR: dict[int, dict[str, tuple[int, int]]] = {
    2024: {"spring": (2, 10), "lantern": (2, 24), "dragon": (6, 10), "moon": (9, 17), "double9": (10, 11)},
    2025: {"spring": (1, 29), "lantern": (2, 12), "dragon": (5, 31), "moon": (10, 6), "double9": (10, 29)},
    2026: {"spring": (2, 17), "lantern": (3, 3), "dragon": (6, 19), "moon": (9, 25), "double9": (10, 18)},
    2027: {"spring": (2, 6), "lantern": (2, 20), "dragon": (6, 9), "moon": (9, 15), "double9": (10, 8)},
    2028: {"spring": (1, 26), "lantern": (2, 9), "dragon": (5, 28), "moon": (10, 3), "double9": (10, 26)},
    2029: {"spring": (2, 13), "lantern": (2, 27), "dragon": (6, 16), "moon": (9, 22), "double9": (10, 16)},
}

# --- Activity templates ------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One kind of activity: what it is, how long, how many seats, where, which volunteer posts."""

    titles: tuple[str, ...]
    platform: str
    minutes: int
    seats: int  # 0: no resident sign-up (online, or a volunteer service)
    hosts: str  # which hosts it suits: any of "sub", "area", "res", or an area station's code
    rooms: tuple[str, ...] = ()  # the host's rooms by name, in order of preference; () = any of them
    place: str = ""  # where, when not in a room: OUTDOOR, or a text with {short} / {name}
    lecture_format: str = ""
    audience: str = Audience.ALL
    posts: tuple[tuple[str, int], ...] = (("签到引导", 1),)
    project: str = ""
    blurb: str = ""
    slots: tuple[str, ...] = ()  # start times it suits; () = the host's usual times
    popular: float = 1.0

    def suits(self, host: Host) -> bool:
        return host.kind in self.hosts.split() or host.code in self.hosts.split()


def _t(titles: str | tuple[str, ...], platform: str, minutes: int, seats: int, hosts: str, **kw: Any) -> Template:
    return Template((titles,) if isinstance(titles, str) else titles, platform, minutes, seats, hosts, **kw)


RES_ROOMS = ("综合活动室", "睦邻议事厅")
AREA_ROOMS = ("多功能活动厅", "议事厅", "亲子活动室", "健身室", "图书阅览室", "长者食堂")
FILMS = ("《长津湖》", "《觉醒年代》选集", "《我和我的祖国》", "《守岛人》", "《革命者》", "《建国大业》")

# Posts: (minutes before the start, minutes after the end, duty).
POST_TIMES: dict[str, tuple[int, int, str]] = {
    "签到引导": (30, 0, "引导居民扫码签到、入座"),
    "秩序维护": (15, 0, "维护现场秩序，照顾行动不便的居民"),
    "摄影记录": (0, 0, "拍摄活动照片，供回顾使用"),
    "场地布置": (45, 30, "布置和整理场地"),
    "教学助理": (15, 0, "协助老师指导学员"),
    "手机辅导": (15, 0, "一对一辅导老年人使用手机"),
    "测量血压": (15, 0, "为居民测量血压并登记"),
    "分类指导": (0, 0, "桶边指导居民正确分类投放"),
    "文明劝导": (0, 0, "劝导不文明行为，发放宣传资料"),
    "课业辅导": (0, 0, "辅导孩子完成作业"),
    "爱心理发": (0, 0, "为老年人免费理发"),
    "健康义诊": (15, 0, "协助医生开展义诊咨询"),
    "法律咨询": (0, 0, "解答居民法律问题"),
    "家电维修": (0, 0, "免费修理小家电"),
    "线上主持": (15, 0, "线上诵读的主持和直播保障"),
    "安全保障": (30, 15, "现场安全巡查和应急保障"),
    "手工指导": (15, 0, "指导居民动手制作"),
    "铺纸研墨": (30, 0, "为书法老师铺纸研墨、晾干作品"),
    "春联发放": (0, 0, "向居民发放春联和福字"),
    "走访慰问": (0, 0, "入户走访独居老人"),
    "卫生清洁": (0, 0, "清扫楼道和公共区域"),
    "实验助教": (15, 0, "准备实验材料，协助孩子动手"),
    "讲解员": (0, 0, "为参观居民讲解展览"),
    "裁判": (15, 0, "比赛计分和裁判"),
    "缝纫指导": (15, 0, "指导缝纫和裁剪"),
}

# The catalogue is data: one template to a few lines reads better than one argument a line.
# fmt: off
EVERYDAY: tuple[Template, ...] = (
    # Residential stations: small, close to home.
    _t("板凳宣讲：党的创新理论进小区", THEORY, 60, 30, "res", place=OUTDOOR, lecture_format=BENCH,
       posts=(("秩序维护", 1),), project="板凳宣讲团",
       blurb="宣讲员搬上小板凳，用家常话讲政策、说变化，与居民面对面交流。"),
    _t("墙角宣讲：住户公约记心间", THEORY, 45, 20, "res", place="{short}5号楼楼道宣传角", lecture_format=CORNER,
       posts=(), project="住户公约宣讲团", blurb="在楼道的宣传墙角，宣讲团成员讲解住户公约和文明居住的小事。"),
    _t(tuple(f"红色观影：{film}" for film in FILMS), THEORY, 150, 40, "res area sub",
       rooms=("报告厅", "多功能活动厅", *RES_ROOMS), lecture_format=FILM, posts=(("签到引导", 1), ("秩序维护", 1)),
       blurb="观看红色影片，映后由老党员分享观影感悟，在光影中重温初心。"),
    _t(("智能手机课堂：手机挂号和缴费", "智能手机课堂：视频通话和拍照", "智能手机课堂：识别网络谣言"), SCIENCE, 90,
       15, "res area", rooms=(*RES_ROOMS, *AREA_ROOMS), audience=Audience.ELDERLY, posts=(("手机辅导", 2),),
       blurb="青年志愿者一对一手把手教老年人使用智能手机，帮助老人跨越“数字鸿沟”。"),
    _t(("家庭医生健康讲座：高血压的日常管理", "家庭医生健康讲座：糖尿病饮食指导", "家庭医生健康讲座：老年人合理用药"),
       SCIENCE, 60, 30, "res area", audience=Audience.ELDERLY, posts=(("测量血压", 2),), project="家庭医生健康讲座",
       blurb="社区卫生服务中心的家庭医生走进居民区讲解慢病防治知识，现场免费测量血压。"),
    _t("四点半课堂", EDUCATION, 90, 15, "res", audience=Audience.CHILDREN, posts=(("课业辅导", 2),),
       project="四点半课堂", slots=("16:30",),
       blurb="放学后孩子们来到居民区活动室写作业，青年志愿者辅导功课、陪伴阅读。"),
    _t("防范电信网络诈骗讲座", EDUCATION, 60, 30, "res area", audience=Audience.ELDERLY,
       blurb="社区民警结合真实案例，讲解冒充客服、养老投资等常见骗局，提醒居民守好“钱袋子”。"),
    _t("八段锦晨练", FITNESS, 60, 20, "res", place=OUTDOOR, audience=Audience.ELDERLY, posts=(), slots=("09:00",),
       blurb="跟着老师练习八段锦，舒筋活络、强身健体。"),
    _t("亲子手工：旧物变新宝", CULTURE, 90, 12, "res area", audience=Audience.FAMILIES, posts=(("手工指导", 1),),
       slots=("09:30",), blurb="用废旧纸盒、瓶罐制作收纳盒和小玩具，在动手中学习环保。"),
    _t("家门口读书会", CULTURE, 90, 15, "res", posts=(), project="家门口读书会",
       blurb="邻里围坐共读一本好书，交流读书心得，书香飘进家门口。"),
    _t("长者生日会", CULTURE, 90, 20, "res area", audience=Audience.ELDERLY, posts=(("场地布置", 2),),
       blurb="为本月过生日的老人送上蛋糕和祝福，志愿者表演小节目，老人们笑得合不拢嘴。"),
    _t("消防安全知识讲座", SCIENCE, 60, 30, "res area",
       blurb="消防站指导员讲解家庭防火和电动自行车安全充电，提醒居民杜绝“飞线充电”。"),
    _t("垃圾分类桶边指导", EDUCATION, 120, 0, "res", place="{short}垃圾厢房", posts=(("分类指导", 3),),
       project="垃圾分类指导岗", slots=("07:00", "18:00"),
       blurb="在定时定点投放时段，志愿者守在桶边指导居民正确分类投放。"),
    _t("独居老人敲门行动", EDUCATION, 120, 0, "res", place="{short}各楼组", posts=(("走访慰问", 3),),
       project="独居老人敲门行动", blurb="志愿者逐户敲门走访独居老人，了解生活需求，帮助解决急难愁盼。"),
    # Area stations: bigger rooms and regular groups.
    _t("太极拳培训班", FITNESS, 90, 25, "area", rooms=("健身室", "多功能活动厅"), audience=Audience.ELDERLY, posts=(),
       blurb="太极拳老师示范讲解二十四式太极拳，学员们一招一式认真练习。"),
    _t("社区合唱团排练", CULTURE, 120, 30, "area", rooms=("多功能活动厅",), posts=(),
       blurb="合唱团在指挥老师带领下排练新曲目，为百姓舞台演出做准备。"),
    _t("乒乓球友谊赛", FITNESS, 150, 24, "area", rooms=("健身室", "多功能活动厅"), posts=(("裁判", 2),),
       blurb="居民乒乓球爱好者以球会友，赛出水平、赛出友谊。"),
    _t("健康义诊", SCIENCE, 120, 40, "area res", posts=(("健康义诊", 2), ("签到引导", 1)), project="健康守护联盟",
       blurb="健康守护联盟的医生提供血压血糖检测、用药咨询和中医推拿，居民在家门口享受健康服务。"),
    _t("亲子科普实验课", SCIENCE, 90, 16, "area", rooms=("亲子活动室", "多功能活动厅"), audience=Audience.FAMILIES,
       posts=(("实验助教", 2),), slots=("09:30", "14:00"),
       blurb="孩子和家长一起动手做趣味实验，在玩中学、在学中玩。"),
    # The sub-centre: its brands and projects.
    _t(("理论微课堂：读懂中国式现代化", "理论微课堂：新时代“枫桥经验”", "理论微课堂：人民城市人民建"), THEORY, 90,
       150, "sub", rooms=("报告厅",), lecture_format=HALL, posts=(("签到引导", 2), ("秩序维护", 1)),
       project="理论微课堂", slots=("09:30", "14:00"),
       blurb="宣讲骨干结合嘉禾路的发展变化，深入浅出地解读党的创新理论，现场互动交流热烈。"),
    _t(("“四史”线上诵读：红船精神", "“四史”线上诵读：井冈山精神", "“四史”线上诵读：改革开放的故事"), THEORY, 30, 0,
       "sub", place=WECHAT, lecture_format=ONLINE, posts=(("线上主持", 1),), project="“四史”线上诵读",
       slots=("19:30",), blurb="社区党员和志愿者在线诵读“四史”经典篇章，居民随时收听学习。"),
    _t("百姓舞台·周末文艺演出", CULTURE, 120, 180, "sub", rooms=("报告厅",),
       posts=(("签到引导", 2), ("秩序维护", 2), ("摄影记录", 1)), project="百姓舞台", slots=("14:00", "19:00"),
       popular=1.2, blurb="社区文艺团队登台献艺，沪剧、舞蹈、合唱轮番上演，台下掌声不断。"),
    _t("剪纸非遗体验课", CULTURE, 120, 20, "sub", rooms=("书画室",), posts=(("教学助理", 1),), project="剪纸非遗习点",
       popular=1.2, blurb="海派剪纸传承人手把手教居民剪窗花，感受非遗文化的魅力。"),
    _t(("市民修身课堂：家风家训代代传", "市民修身课堂：文明礼仪进万家"), EDUCATION, 90, 30, "sub",
       rooms=("社区学校教室",), project="市民修身课堂",
       blurb="市民修身课堂邀请讲师分享家风故事和文明礼仪，倡导文明新风尚。"),
    _t("小微学堂：青少年科学实验", SCIENCE, 90, 30, "sub", rooms=("多媒体教室",), audience=Audience.CHILDREN,
       posts=(("实验助教", 2),), project="小微学堂", slots=("09:30", "14:00"), popular=1.2,
       blurb="青禾青年志愿者带领孩子们做科学小实验，激发对科学的兴趣。"),
    _t(("科普讲座：人工智能走进生活", "科普讲座：应对极端天气", "科普讲座：食品安全小知识"), SCIENCE, 90, 150, "sub",
       rooms=("报告厅",), blurb="科普专家用通俗的语言和生动的案例普及科学知识，解答居民的疑问。"),
    _t("广场舞培训班", FITNESS, 90, 30, "sub", rooms=("舞蹈排练厅",), posts=(),
       blurb="舞蹈老师教授新编广场舞，动作规范、音量适中，做文明健身的践行者。"),
    _t("“从老街到新城”街区变迁展导览", CULTURE, 90, 60, "sub", rooms=("展厅",), posts=(("讲解员", 2),),
       project="老街记忆口述史", blurb="志愿讲解员带领居民参观街区变迁展，老照片、老物件讲述嘉禾路的前世今生。"),
    _t("心理健康讲座：与焦虑和解", EDUCATION, 90, 40, "sub", rooms=("多功能厅",),
       blurb="心理咨询师讲解情绪管理的方法，现场带领居民做放松练习。"),
    _t(("法律明白人讲堂：遗嘱与继承", "法律明白人讲堂：物业纠纷怎么办"), EDUCATION, 90, 40, "sub",
       rooms=("多功能厅", "社区学校教室"), posts=(("法律咨询", 1),),
       blurb="律师志愿者结合身边案例讲解法律知识，课后为居民一对一答疑。"),
    # Area stations' own brands (一站一品牌).
    _t(("经典诵读班：《论语》选读", "经典诵读班：唐诗里的家国情怀"), CULTURE, 90, 25, "Q1", posts=(),
       project="经典诵读班", blurb="国学老师带领学员诵读经典、讲解字词，感受中华优秀传统文化。"),
    _t("国学讲堂：二十四节气里的智慧", EDUCATION, 90, 40, "Q1",
       blurb="从节气农谚讲到生活养生，居民们在国学讲堂里领略传统智慧。"),
    _t("旧衣新裁工作坊", CULTURE, 120, 15, "Q2", audience=Audience.WOMEN, posts=(("缝纫指导", 1),),
       project="旧衣新裁工作坊", blurb="把旧衣服改成环保袋、围裙和抱枕，时尚与低碳两不误。"),
    _t("形体礼仪课", FITNESS, 90, 20, "Q2", audience=Audience.WOMEN, posts=(),
       blurb="形体老师讲解站姿坐姿和日常礼仪，帮助学员塑造优雅体态。"),
    _t(("邻里节·睦邻茶话会", "睦邻故事会"), CULTURE, 90, 40, "Q3", project="邻里节",
       blurb="邻里围坐品茶聊天，分享身边的暖心故事，远亲不如近邻。"),
    _t("楼宇党课：党员先锋在身边", THEORY, 60, 40, "Q4", lecture_format=HALL, audience=Audience.PARTY_MEMBERS,
       project="楼宇党员先锋岗", slots=("12:00", "18:30"),
       blurb="楼宇党员先锋岗的党员讲述岗位上的故事，推动楼宇党建与社区治理融合。"),
    _t("楼宇白领午间健身操", FITNESS, 45, 30, "Q4", audience=Audience.YOUTH, posts=(), slots=("12:00",),
       blurb="利用午休时间跟着教练做健身操，缓解久坐疲劳。"),
    _t(("海派文化讲坛：石库门里的老故事", "海派文化讲坛：老上海的市井生活"), CULTURE, 90, 50, "Q5",
       project="海派文化讲坛", blurb="文史专家讲述海派文化的来龙去脉，老居民们也纷纷分享自己的记忆。"),
    _t("沪剧经典唱段欣赏", CULTURE, 120, 50, "Q5", audience=Audience.ELDERLY, posts=(("秩序维护", 1),),
       blurb="沪剧团演员演唱经典唱段，戏迷们跟着哼唱，现场气氛热烈。"),
    _t("主题党日：在职党员“双报到”志愿服务", THEORY, 120, 30, "Q6", audience=Audience.PARTY_MEMBERS,
       posts=(("文明劝导", 3), ("卫生清洁", 3)), project="党员双报到服务", slots=("09:00", "14:00"),
       blurb="到居住地报到的在职党员亮身份、做表率，参与文明劝导和环境整治。"),
    _t("红色长廊宣讲：百年党史中的嘉禾故事", THEORY, 45, 30, "Q6", place="{name}红色长廊", lecture_format=CORRIDOR,
       posts=(("讲解员", 1),), blurb="沿着红色长廊的展板，宣讲员讲述嘉禾路的红色记忆。"),
    _t(("白领午间课堂：职场沟通技巧", "白领午间课堂：个人所得税汇算", "白领午间课堂：急救知识"), EDUCATION, 60, 30,
       "Q7", audience=Audience.YOUTH, posts=(), project="白领午间课堂", slots=("12:00",),
       blurb="利用午休一小时，为楼宇白领带来实用课程，学习充电两不误。"),
    _t("金融知识讲座：守好养老钱", EDUCATION, 60, 40, "Q7", posts=(("签到引导", 1),), slots=("18:30",),
       blurb="银行党员志愿者讲解识别非法集资和理财陷阱，守护居民财产安全。"),
    _t("青年读书沙龙", CULTURE, 90, 20, "Q7", audience=Audience.YOUTH, posts=(), slots=("18:30",),
       blurb="下班后的青年白领围坐共读，分享阅读与生活的感悟。"),
)

# Month → what that month's theme brings, besides the everyday.
THEMED: dict[int, tuple[Template, ...]] = {
    1: (
        _t("写春联 送福字", CULTURE, 120, 40, "sub area res", rooms=("书画室", "多功能活动厅", *RES_ROOMS),
           posts=(("铺纸研墨", 2), ("春联发放", 2)), project="翰墨迎春送福", popular=1.3,
           blurb="书法爱好者现场挥毫泼墨，一副副春联、一张张福字送到居民手中，年味渐浓。"),
        _t("迎新春剪窗花", CULTURE, 90, 20, "res area", posts=(("手工指导", 1),),
           blurb="居民们学剪窗花、贴窗花，用巧手剪出新春的喜庆。"),
        _t("元旦迎新健步走", FITNESS, 90, 60, "sub area", place=OUTDOOR, posts=(("安全保障", 3),),
           blurb="居民们沿着滨江步道健步走，用运动迎接新年。"),
    ),
    2: (
        _t("闹元宵 猜灯谜", CULTURE, 90, 40, "res area", posts=(("场地布置", 2),), popular=1.2,
           blurb="挂灯笼、猜灯谜、品汤圆，居民们欢欢喜喜闹元宵。"),
        _t("邻里一家亲 包饺子迎新春", CULTURE, 120, 25, "res area", rooms=("长者食堂", "多功能活动厅", *RES_ROOMS),
           posts=(("场地布置", 2),), blurb="邻里们围坐一桌擀皮、包馅，热气腾腾的饺子送到独居老人手中。"),
        _t("春节民俗讲座：老上海过年", EDUCATION, 90, 40, "area sub", rooms=("多功能厅", "多功能活动厅"),
           blurb="民俗专家讲述老上海过年的习俗，勾起老居民的美好回忆。"),
    ),
    3: (
        _t("学雷锋志愿服务集市", EDUCATION, 150, 0, "res area", place=OUTDOOR,
           posts=(("爱心理发", 2), ("健康义诊", 2), ("家电维修", 2)),
           blurb="理发、义诊、修家电，志愿者摆开服务摊位，居民排起长队。"),
        _t("雷锋精神板凳宣讲", THEORY, 60, 30, "res", place=OUTDOOR, lecture_format=BENCH, posts=(),
           project="板凳宣讲团", blurb="老党员讲述雷锋的故事和身边的“活雷锋”，号召居民争做志愿者。"),
        _t("学雷锋 社区环境大扫除", EDUCATION, 120, 0, "res", place="{short}楼道和绿地", posts=(("卫生清洁", 5),),
           blurb="志愿者清理楼道堆物、捡拾绿地垃圾，让小区焕然一新。"),
    ),
    4: (
        _t("亲子绘本阅读会", CULTURE, 90, 15, "res area sub",
           rooms=("阅览室", "图书阅览室", "亲子活动室", *RES_ROOMS), audience=Audience.FAMILIES,
           posts=(("教学助理", 1),), slots=("09:30",),
           blurb="志愿者声情并茂地讲绘本故事，孩子和家长一起阅读、表演。"),
        _t("读书分享会：我最喜爱的一本书", CULTURE, 90, 25, "res area", posts=(),
           blurb="居民们带着自己最喜爱的书，分享书中的故事和读书的收获。"),
        _t("清明祭英烈 线上寄哀思", THEORY, 30, 0, "sub", place=WECHAT, lecture_format=ONLINE,
           posts=(("线上主持", 1),), blurb="通过线上献花、留言寄语，缅怀革命先烈，传承红色基因。"),
    ),
    5: (
        _t("科普实验秀", SCIENCE, 90, 20, "res area", audience=Audience.CHILDREN, posts=(("实验助教", 2),),
           slots=("09:30",), blurb="大气压、静电、彩虹瓶，一个个有趣的实验让孩子们惊叹连连。"),
        _t("科技活动周：老年人智能手机课堂", SCIENCE, 90, 15, "res area sub",
           rooms=("多媒体教室", *RES_ROOMS, *AREA_ROOMS), audience=Audience.ELDERLY, posts=(("手机辅导", 2),),
           blurb="志愿者教老人用手机打车、买菜、识别诈骗短信，让科技真正便利生活。"),
        _t("厉行节约 反对浪费 书画创作", CULTURE, 120, 20, "sub area", rooms=("书画室", "多功能活动厅"), posts=(),
           blurb="社区书画社成员以“厉行节约 反对浪费”为主题创作书画作品，传递文明新风。"),
    ),
    6: (
        _t("垃圾分类知识竞赛", EDUCATION, 90, 30, "res area sub", rooms=("多功能厅", *AREA_ROOMS, *RES_ROOMS),
           posts=(("签到引导", 1), ("裁判", 1)), blurb="必答、抢答、情景题，居民们比一比谁是垃圾分类小达人。"),
        _t("粽叶飘香 端午包粽子", CULTURE, 120, 25, "res area", rooms=("长者食堂", "多功能活动厅", *RES_ROOMS),
           posts=(("场地布置", 2),), blurb="居民们包粽子、做香囊，把包好的粽子送给辖区独居老人。"),
        _t("旧物改造 低碳生活", CULTURE, 90, 15, "res area", audience=Audience.FAMILIES, posts=(("手工指导", 1),),
           blurb="旧报纸变收纳篮、塑料瓶变花盆，居民在动手中践行低碳生活。"),
    ),
    7: (
        _t("七一主题党课：学习党的创新理论", THEORY, 90, 60, "res area", lecture_format=HALL,
           audience=Audience.PARTY_MEMBERS, posts=(("签到引导", 1),),
           blurb="党组织书记讲授主题党课，党员们重温入党誓词，坚定理想信念。"),
        _t("板凳宣讲：党的故事讲给您听", THEORY, 60, 30, "res", place=OUTDOOR, lecture_format=BENCH, posts=(),
           project="板凳宣讲团", blurb="退休老党员讲述亲历的党的故事，居民们听得津津有味。"),
        _t("长廊宣讲：身边的榜样", THEORY, 45, 30, "res area", place="{short}宣传长廊", lecture_format=CORRIDOR,
           posts=(), blurb="对照宣传长廊上的好人好事，宣讲员讲述身边榜样的感人事迹。"),
    ),
    8: (
        _t("太极拳展示交流", FITNESS, 90, 30, "area sub", place=OUTDOOR, posts=(("安全保障", 2),),
           blurb="各居民区太极拳队同台展示，切磋技艺、交流心得。"),
        _t("暑期爱心托管班", EDUCATION, 180, 20, "res area", audience=Audience.CHILDREN, posts=(("课业辅导", 2),),
           slots=("09:00",), blurb="暑假里，双职工家庭的孩子在托管班写作业、做手工、学安全知识。"),
        _t("夏季防暑健康讲座", SCIENCE, 60, 30, "res area", audience=Audience.ELDERLY, posts=(("测量血压", 1),),
           blurb="医生讲解中暑的预防和急救，提醒老人夏季科学饮水、合理使用空调。"),
    ),
    9: (
        _t("我和我的祖国 红歌合唱", CULTURE, 90, 40, "res area", posts=(("秩序维护", 1),),
           blurb="居民们齐声高唱红色经典歌曲，抒发对祖国的热爱。"),
        _t("国旗下的微宣讲", THEORY, 30, 30, "res", place="{short}国旗台", lecture_format=CORNER, posts=(),
           blurb="在国旗下讲述国旗、国歌的故事，增强居民的爱国情怀。"),
        _t("国庆主题手工：我为祖国画国旗", CULTURE, 90, 15, "res area", audience=Audience.CHILDREN,
           posts=(("手工指导", 1),), slots=("09:30",), blurb="孩子们画国旗、做灯笼，用稚嫩的小手表达对祖国的祝福。"),
    ),
    10: (
        _t("重阳敬老 长者生日会", CULTURE, 120, 30, "res area", audience=Audience.ELDERLY,
           posts=(("场地布置", 2), ("摄影记录", 1)),
           blurb="为辖区高龄老人集体过生日，送上重阳糕和祝福，孝老爱亲蔚然成风。"),
        _t("敬老健康义诊", SCIENCE, 120, 40, "res area", audience=Audience.ELDERLY, posts=(("健康义诊", 2),),
           project="健康守护联盟", blurb="医生为老人测血压、测血糖，提供用药和康复咨询。"),
        _t("老年人防跌倒讲座", SCIENCE, 60, 30, "res area", audience=Audience.ELDERLY,
           blurb="康复医生讲解居家防跌倒的要点，演示简单易学的平衡练习。"),
        _t("孝亲敬老家风故事会", EDUCATION, 90, 30, "res area sub", rooms=("多功能厅", *AREA_ROOMS, *RES_ROOMS),
           blurb="居民讲述自家的孝亲故事，传承好家风、弘扬传统美德。"),
    ),
    11: (
        _t("文明养犬宣传", EDUCATION, 120, 0, "res area", place="{short}出入口", posts=(("文明劝导", 3),),
           blurb="志愿者发放文明养犬倡议书，劝导居民遛狗拴绳、及时清理犬粪。"),
        _t("犬只狂犬疫苗集中免疫", SCIENCE, 180, 40, "res area", place=OUTDOOR, posts=(("秩序维护", 2),),
           slots=("09:00",), blurb="兽医现场为犬只接种狂犬疫苗、办理登记，普及依法养犬知识。"),
        _t("消防安全演练", SCIENCE, 90, 40, "res area", place=OUTDOOR, posts=(("安全保障", 2),),
           blurb="消防员演示灭火器的使用，居民们现场实操，提升自救能力。"),
        _t("飞线充电排查劝导", EDUCATION, 120, 0, "res", place="{short}各楼组", posts=(("文明劝导", 3),),
           blurb="志愿者逐楼排查电动自行车“飞线充电”，劝导居民到集中充电点充电。"),
    ),
    12: (
        _t("宪法宣传 法律咨询进社区", EDUCATION, 120, 0, "res area", place=OUTDOOR, posts=(("法律咨询", 2),),
           blurb="律师志愿者设摊解答婚姻家庭、物业纠纷等法律问题，发放宪法宣传册。"),
        _t("冬至包馄饨 邻里暖人心", CULTURE, 120, 25, "res area", rooms=("长者食堂", "多功能活动厅", *RES_ROOMS),
           posts=(("场地布置", 2),), blurb="冬至到，邻里一起包馄饨，热乎乎的馄饨送到独居老人家中。"),
        _t("冬季养生健康讲座", SCIENCE, 60, 30, "res area", audience=Audience.ELDERLY, posts=(("测量血压", 1),),
           blurb="中医讲解冬季养生和心脑血管疾病的预防。"),
        _t("宪法知识微宣讲", THEORY, 45, 30, "res", place="{short}宣传栏前", lecture_format=CORNER, posts=(),
           blurb="宣讲员结合生活实例讲解宪法知识，增强居民的法治意识。"),
    ),
}


def _template(title: str) -> Template:
    for template in (*EVERYDAY, *(t for month in THEMED.values() for t in month)):
        if title in template.titles:
            return template
    raise LookupError(title)


# The sub-centre's big days: (month, day) or a lunar festival with an offset in days.
BIG_DAYS: tuple[tuple[str | tuple[int, int], int, str, Template], ...] = (
    ("spring", -10, "10:00",
     _t("翰墨迎春 写春联送福字", CULTURE, 150, 150, "sub", rooms=("报告厅",),
        posts=(("铺纸研墨", 3), ("春联发放", 3), ("签到引导", 2)), project="翰墨迎春送福", popular=1.3,
        blurb="“翰墨丹青溢书香”：社区书法家和居民现场创作春联，原创春联和福字当场赠送给居民。")),
    ("lantern", 0, "18:30",
     _t("元宵灯会 猜灯谜", CULTURE, 120, 120, "sub", place=OUTDOOR, posts=(("安全保障", 3), ("场地布置", 2)),
        popular=1.2, blurb="街心广场挂起百盏花灯，居民们猜灯谜、品汤圆，共度元宵佳节。")),
    ((3, 5), 0, "09:00",
     _t("学雷锋日 志愿服务大集", EDUCATION, 180, 0, "sub", place=OUTDOOR,
        posts=(("爱心理发", 3), ("健康义诊", 3), ("法律咨询", 2), ("家电维修", 2), ("秩序维护", 2)),
        blurb="七支志愿服务队摆开摊位，理发、义诊、法律咨询、修家电，现场服务居民数百人次。")),
    ((4, 23), 0, "14:00",
     _t("世界读书日 书香嘉禾阅读分享会", CULTURE, 120, 40, "sub", rooms=("阅览室",),
        posts=(("签到引导", 1), ("摄影记录", 1)),
        blurb="“书香嘉禾”读书分享会上，居民代表分享阅读故事，现场发起图书漂流。")),
    ((6, 30), 0, "14:00",
     _t("“七一”主题宣讲大会", THEORY, 120, 200, "sub", rooms=("报告厅",), lecture_format=HALL,
        audience=Audience.PARTY_MEMBERS, posts=(("签到引导", 3), ("秩序维护", 2), ("摄影记录", 1)),
        project="理论微课堂", blurb="区委宣讲团成员作主题宣讲，辖区党员、居民代表和共建单位代表济济一堂。")),
    ((8, 8), 0, "08:30",
     _t("全民健身日 健身展示", FITNESS, 150, 0, "sub", place=OUTDOOR, posts=(("安全保障", 4), ("签到引导", 2)),
        project="全民健身节", blurb="太极拳、广场舞、健身气功轮番展示，各居民区健身团队同台竞技。")),
    ((9, 28), 0, "19:00",
     _t("我和我的祖国 国庆文艺汇演", CULTURE, 120, 200, "sub", rooms=("报告厅",),
        posts=(("签到引导", 3), ("秩序维护", 2), ("摄影记录", 1)), project="百姓舞台", popular=1.3,
        blurb="合唱、舞蹈、诗朗诵，社区文艺团队以精彩节目献礼祖国华诞。")),
    ("moon", -1, "18:30",
     _t("月圆嘉禾 中秋游园会", CULTURE, 120, 100, "sub", place=OUTDOOR, posts=(("场地布置", 3), ("安全保障", 2)),
        popular=1.2, blurb="做月饼、猜灯谜、赏民乐，居民们在游园会上共庆中秋。")),
    ("double9", 0, "09:30",
     _t("重阳敬老 千叟宴暨长者集体生日会", CULTURE, 150, 150, "sub", rooms=("报告厅",), audience=Audience.ELDERLY,
        posts=(("签到引导", 3), ("秩序维护", 3), ("场地布置", 2)), project="长者食堂",
        blurb="为辖区八十岁以上老人集体祝寿，志愿者献上文艺节目，长者食堂送上长寿面。")),
    ((11, 9), 0, "09:30",
     _t("“119”消防宣传日 消防安全体验", SCIENCE, 120, 80, "sub", place=OUTDOOR, posts=(("安全保障", 3),),
        blurb="消防车开进社区，居民体验灭火器、烟雾逃生，学习家庭消防知识。")),
    ((12, 4), 0, "09:30",
     _t("国家宪法日 宪法宣传周", EDUCATION, 150, 0, "sub", place=OUTDOOR, posts=(("法律咨询", 3), ("文明劝导", 2)),
        blurb="法律明白人志愿服务队设摊宣传宪法，为居民提供免费法律咨询。")),
    ((12, 5), 0, "14:00",
     _t("国际志愿者日 优秀志愿者表彰会", THEORY, 120, 150, "sub", rooms=("报告厅",), audience=Audience.VOLUNTEERS,
        posts=(("签到引导", 2), ("摄影记录", 1)),
        blurb="表彰一年来的优秀志愿者和志愿服务队，志愿者代表分享服务故事。")),
    ("dragon", -1, "14:00",
     _t("粽情嘉禾 端午民俗体验", CULTURE, 120, 40, "sub", rooms=("多功能厅",), posts=(("场地布置", 2),),
        blurb="包粽子、做香囊、讲屈原的故事，居民们体验传统端午民俗。")),
    ((6, 5), 0, "14:00",
     _t("世界环境日 垃圾分类知识擂台赛", EDUCATION, 120, 100, "sub", rooms=("报告厅",),
        posts=(("签到引导", 2), ("裁判", 2)), blurb="各居民区代表队同台比拼垃圾分类知识，台下居民踊跃参与互动答题。")),
)

# The weekly series: (host code, weekday, start, minutes, weeks back, template).
CALLIGRAPHY = (
    _t("周三书法班", CULTURE, 120, 20, "sub", rooms=("书画室",), posts=(("教学助理", 1),), project="翰墨迎春送福",
       blurb="书法老师每周三下午授课，从基本笔画到作品创作，学员们的字一周比一周进步。")
)
YOGA = (
    _t("白领午间瑜伽", FITNESS, 45, 25, "Q7", audience=Audience.YOUTH, posts=(), project="白领午间课堂",
       blurb="每周四午休时间，瑜伽老师带领楼宇白领舒展身心。")
)
SERIES: tuple[tuple[str, int, str, int, Template], ...] = (
    (SUBCENTRE, 2, "14:00", 40, CALLIGRAPHY),
    ("HP-JH-Q7", 3, "12:10", 12, YOGA),
)
# fmt: on

# An outdoor walk the weather calls off.
RIVERSIDE_WALK = _t(
    "滨江健步走",
    FITNESS,
    90,
    60,
    "sub",
    place=OUTDOOR,
    posts=(("安全保障", 2),),
    blurb="居民们沿着滨江步道健步走，强身健体，感受街区新貌。",
)


def weather(month: int) -> str:
    """Why an outdoor activity of that month was called off."""
    if month in (12, 1, 2):
        return "因寒潮大风预警，户外活动取消，改期另行通知。"
    if month in (6, 7, 8, 9):
        return "因台风暴雨预警，户外活动取消，改期另行通知。"
    return "因大风降雨天气，户外活动取消，改期另行通知。"


# Why an indoor one was.
CANCEL_REASONS = ("授课老师临时生病，活动取消。", "因场地设备检修，活动改期举行。")
RECAP_CLOSINGS: dict[str, tuple[str, ...]] = {
    THEORY: (
        "大家纷纷表示，这样接地气的宣讲听得懂、记得住。",
        "活动让党的创新理论“飞入寻常百姓家”。",
    ),
    EDUCATION: (
        "居民们表示收获满满，希望多举办这样的活动。",
        "活动贴近居民需求，现场答疑解惑，受到一致好评。",
    ),
    CULTURE: (
        "活动丰富了居民的精神文化生活，现场欢声笑语不断。",
        "不少居民询问下一期活动的时间，表示一定还来。",
    ),
    SCIENCE: (
        "科学知识走进千家万户，居民们直呼“涨知识了”。",
        "活动寓教于乐，让居民在互动中学到了实用知识。",
    ),
    FITNESS: (
        "居民们在运动中收获了健康和快乐。",
        "活动倡导了科学健身、文明健身的生活方式。",
    ),
}
NEXT_STEPS = (
    "下一步，{short}将继续围绕“{theme}”主题，开展更多贴近群众的文明实践活动。",
    "{short}将把这项活动做成常态，让文明实践在家门口落地生花。",
    "",
)

# --- Bookings -------------------------------------------------------------------------------

# (purpose, attendees, minutes)
RESIDENT_PURPOSES = (
    ("合唱队排练", 20, 120),
    ("书画爱好者交流", 10, 120),
    ("楼组议事会", 12, 90),
    ("沪剧沙龙排练", 15, 120),
    ("亲子读书会", 12, 90),
    ("老年舞蹈队排练", 18, 120),
    ("象棋友谊赛", 12, 120),
    ("编织手工小组", 8, 120),
    ("太极拳练习", 15, 90),
    ("业委会工作会议", 8, 90),
    ("志愿服务队例会", 15, 60),
)
UNIT_PURPOSES = (
    ("党支部主题党日活动", 25, 120),
    ("职工安全生产培训", 40, 120),
    ("金融知识进社区宣讲", 30, 90),
    ("家长学校讲座", 45, 120),
    ("健康讲座及义诊", 30, 120),
    ("社工督导会议", 10, 90),
)
REJECT_REASONS = (
    "该时段场地已安排街道活动，请改约其他时间。",
    "预约用途不符合场地使用规定（不得用于商业推广）。",
    "参加人数超过场地容纳能力，建议改约报告厅。",
)


# --- The people and places -------------------------------------------------------------------


@dataclass
class Host:
    """A site that runs activities, with its rooms, its people and who runs it."""

    site: Site
    code: str  # "" for the sub-centre, "Q1", "R01" …
    kind: str  # "sub", "area", "res"
    organiser: User  # who creates its activities: its station manager, or the sub-centre admin
    admin: User  # the sub-centre admin, who approves what a station submits
    venues: list[Venue]
    projects: dict[str, Project]
    residents: list[User]  # the people who come, locals first
    locals: set[int]
    volunteers: list[Volunteer]
    outdoor: str
    per_month: int

    @property
    def short(self) -> str:
        return short_name(self.site)

    @property
    def approved_by_subcentre(self) -> bool:
        return self.kind != "sub" and self.site.manager_id is not None


def short_name(site: Site) -> str:
    return site.name.removesuffix("新时代文明实践站").removesuffix("新时代文明实践分中心")


def _aware(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class _Calendar:
    """Busy intervals by key (a venue's id, a person's id)."""

    def __init__(self) -> None:
        self.busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)

    def free(self, key: int, start: dt.datetime, end: dt.datetime) -> bool:
        return all(end <= s or e <= start for s, e in self.busy[key])

    def take(self, key: int, start: dt.datetime, end: dt.datetime) -> None:
        self.busy[key].append((start, end))


@dataclass
class Turn:
    """One person's story at one activity: signed up, maybe cancelled, maybe came."""

    user: User
    at: dt.datetime
    by: User
    post: str = ""  # the post's name, for a volunteer
    cancel_at: dt.datetime | None = None
    checkin_at: dt.datetime | None = None
    checkin_by: User | None = None
    checkout_at: dt.datetime | None = None
    correction: str = ""  # "approved" / "pending": checked in and out at once at the end, asks for the hours
    # Set by the replay (bulk), or the sign-up the services made.
    status: str = ""
    promoted_at: dt.datetime | None = None
    signup: Signup | None = None
    signup_id: int | None = None


@dataclass
class Spec:
    """An activity to write: where, when, what, and what becomes of it."""

    host: Host
    template: Template
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: Venue | None
    location: str
    seats: int
    waitlist_limit: int
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    published_at: dt.datetime
    fate: str  # completed, cancelled, published, submitted, draft
    fill: float
    signup_opens_at: dt.datetime | None = None
    cancel_reason: str = ""
    cancelled_at: dt.datetime | None = None
    recap: bool = False
    activity: Activity | None = None
    turns: list[Turn] = field(default_factory=list)
    # Series occurrences are made by create_series; these are only attended.
    in_series: bool = False
    pk: int | None = None  # the activity's id, once written

    @property
    def publisher(self) -> User:
        """Who published it (and so holds its room): the sub-centre admin when it went through approval."""
        return self.host.admin if self.submitted_at is not None else self.host.organiser

    @property
    def opens(self) -> dt.datetime:
        return self.signup_opens_at or self.published_at

    @property
    def project(self) -> Project | None:
        return self.host.projects.get(self.template.project) if self.template.project else None

    def posts(self) -> list[tuple[str, int, dt.datetime, dt.datetime, str]]:
        out = []
        for name, headcount in self.template.posts:
            before, after, duty = POST_TIMES[name]
            out.append(
                (
                    name,
                    headcount,
                    self.starts_at - dt.timedelta(minutes=before),
                    self.ends_at + dt.timedelta(minutes=after),
                    duty,
                )
            )
        return out


# --- The loader --------------------------------------------------------------------------------


def load_activities(
    sites: Mapping[str, Site],
    staff: Mapping[str, User],
    volunteers: Sequence[Volunteer],
    *,
    rng: random.Random,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Give the demo street a year of activities and bookings, and the weeks ahead; the counts made.

    ``sites`` by code, ``staff`` by phone and ``volunteers`` as ``street.py``
    made them. ``today`` defaults to the real today, and then "now" is the
    real time; another day is taken at 10:00. Deterministic for a seeded
    ``rng`` and a given today (the services draw sign-up codes of their own).
    """
    with _unsent():
        return _Loader(sites, staff, volunteers, rng=rng, today=today).run()


@contextmanager
def _unsent() -> Iterator[None]:
    """Nothing the services would notify while the demo is written is sent: the people are invented."""
    with notice_services.muted():
        yield


def _minute(value: dt.datetime) -> dt.datetime:
    return value.replace(second=0, microsecond=0)


HOUR_STEP = dt.timedelta(seconds=36)  # 0.01 hour


def _snap(moment: dt.datetime, base: dt.datetime) -> dt.datetime:
    """``moment`` moved up to a whole 0.01 hour after ``base`` (a post's start).

    Posts last a multiple of three minutes, so the hours check_out records,
    rounded to 0.01, are then exactly the time served: never a fraction of a
    second above it.
    """
    steps = -((base - moment) // HOUR_STEP)
    return base + steps * HOUR_STEP


def _id(pk: int | None) -> int:
    assert pk is not None
    return pk


def _hours(post: Post, turn: Turn) -> Decimal:
    """What check_out would record for this turn: ``services.hours_served`` of its times at its post."""
    signup = Signup(post=post, checked_in_at=turn.checkin_at, checked_out_at=turn.checkout_at)
    return activity_services.hours_served(signup)


class _Table:
    """Rows of one model's table written straight in, with ids reserved up front (decision 0008).

    For the demo's past year bulk_create spends most of its time preparing
    each field of each model instance (about 0.1 ms a sign-up on SQLite,
    measured); this converts only what needs it and inserts with COPY on
    PostgreSQL and ``executemany`` on SQLite, as ``synth`` does, whose
    ``Writer`` reserves the ids. A row is a dict of attnames (``activity_id``
    for a foreign key); a field left out takes its default.
    """

    def __init__(self, writer: Writer, model: type[models.Model]) -> None:
        self.writer = writer
        self.table = model._meta.db_table
        self.fields: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
        for f in model._meta.concrete_fields:
            if f.primary_key:
                continue
            kind = f.get_internal_type()
            convert: Callable[[Any], Any] | None = {
                "DateTimeField": writer.ts,
                "DateField": writer.day,
                "JSONField": lambda value: json.dumps(value, ensure_ascii=False),
            }.get(kind)
            self.fields.append((f.attname, convert, f.get_default()))
        self.columns = [
            "id",
            *(connection.ops.quote_name(str(f.column)) for f in model._meta.concrete_fields if not f.primary_key),
        ]

    def write(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert ``rows``; their ids, in order."""
        if not rows:
            return []
        first = self.writer.reserve(self.table, len(rows))
        ids = list(range(first, first + len(rows)))
        values: list[list[Any]] = []
        for pk, row in zip(ids, rows, strict=True):
            out: list[Any] = [pk]
            for name, convert, default in self.fields:
                value = row.get(name, default)
                out.append(value if convert is None or value is None else convert(value))
            values.append(out)
        names = ", ".join(self.columns)
        raw = connection.connection
        assert raw is not None
        if connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.table} ({names}) FROM STDIN") as copy:
                for line in values:
                    copy.write_row(line)
        else:
            # Table and column names come from the model's own meta, never from input.
            sql = f"INSERT INTO {self.table} ({names}) VALUES ({', '.join('?' * len(self.columns))})"  # noqa: S608
            cursor = raw.cursor()
            try:
                cursor.executemany(sql, values)
            finally:
                cursor.close()
        return ids


class _Loader:
    def __init__(
        self,
        sites: Mapping[str, Site],
        staff: Mapping[str, User],
        volunteers: Sequence[Volunteer],
        *,
        rng: random.Random,
        today: dt.date | None,
    ) -> None:
        self.rng = rng
        real = timezone.now()
        if today is None or today == timezone.localdate(real):
            self.now = real.replace(microsecond=0)
        else:
            self.now = _aware(today, "10:00")
        self.today = timezone.localdate(self.now)
        self.first_day = self.today - HISTORY
        self.cutoff = self.now - SERVICE_WINDOW
        self.horizon = _aware(holidays.monday_of(self.today) + dt.timedelta(weeks=WEEKS_AHEAD), "00:00")
        self.sites = sites
        self.staff = staff
        self.volunteers = list(volunteers)
        self.admin = staff["13800000001"]
        self.rooms = _Calendar()
        self.people = _Calendar()
        self.specs: list[Spec] = []
        self.series: list[tuple[Host, Template, list[Spec], set[dt.date]]] = []
        self.plans: dict[tuple[int, int], Plan | None] = {}
        self.days: dict[dt.date, holidays.Day] = {}
        self.hosts = self._hosts()
        self.personas = {
            "wang": staff["13800000006"],
            "liu": staff["13800000007"],
            "chen": staff["13800000005"],
        }

    # -- who and where ---------------------------------------------------------------------------

    def _hosts(self) -> dict[str, Host]:
        sub = self.sites[SUBCENTRE]
        here = [s for s in self.sites.values() if s.path.startswith(sub.path)]
        stations = [s for s in here if s.level == SiteLevel.STATION]
        areas = [s for s in stations if s.kind != SiteKind.RESIDENTIAL]

        def zone_of(site: Site) -> Site:
            """A residential station's neighbourhood: the nearest area station."""
            if site.kind != SiteKind.RESIDENTIAL:
                return site
            here = (float(site.latitude or 0), float(site.longitude or 0))
            return min(areas, key=lambda a: haversine_m(*here, float(a.latitude or 0), float(a.longitude or 0)))

        zone = {s.pk: zone_of(s).pk for s in stations}
        venues: dict[int, list[Venue]] = defaultdict(list)
        for venue in Venue.objects.filter(site__in=here, is_active=True).order_by("-capacity", "name"):
            venues[venue.site_id].append(venue)
        projects: dict[int, dict[str, Project]] = defaultdict(dict)
        for project in Project.objects.filter(brand__site__in=here).select_related("brand").order_by("pk"):
            projects[project.brand.site_id][project.name] = project
        residents = list(
            User.objects.filter(role_grants__role=Role.RESIDENT, role_grants__site__in=stations)
            .distinct()
            .order_by("pk")
        )
        registered = {u.pk for u in residents}
        people = residents + [v.user for v in self.volunteers if v.user.pk not in registered]
        by_zone: dict[int, list[User]] = defaultdict(list)
        for person in people:
            if person.home_site_id in zone:
                by_zone[zone[person.home_site_id]].append(person)
        vols_by_zone: dict[int, list[Volunteer]] = defaultdict(list)
        for volunteer in self.volunteers:
            vols_by_zone[zone.get(volunteer.site_id, sub.pk)].append(volunteer)

        points = {s.parent_id: s for s in here if s.level == SiteLevel.POINT and s.kind == SiteKind.PARK}
        hosts: dict[str, Host] = {}
        for site in [sub, *stations]:
            code = site.code.removeprefix(SUBCENTRE).removeprefix("-")
            if site == sub:
                kind, pool, locals_, vols = "sub", people, {p.pk for p in people}, self.volunteers
                outdoor, per_month = "嘉禾路街心广场", 5
            elif site.kind == SiteKind.RESIDENTIAL:
                kind = "res"
                pool = by_zone[zone[site.pk]]
                locals_ = {p.pk for p in pool if p.home_site_id == site.pk}
                vols = vols_by_zone[zone[site.pk]]
                outdoor, per_month = f"{short_name(site)}中心花园", 2
            else:
                kind = "area"
                pool = by_zone[site.pk]
                locals_ = {p.pk for p in pool}
                vols = vols_by_zone[site.pk]
                park = points.get(site.pk)
                outdoor, per_month = (park.name if park else f"{site.name}门前广场"), 3
            own = {**projects[sub.pk], **projects[site.pk]}
            hosts[site.code] = Host(
                site=site,
                code=code,
                kind=kind,
                organiser=site.manager or self.admin,
                admin=self.admin,
                venues=venues[site.pk],
                projects=own,
                residents=pool,
                locals=locals_,
                volunteers=vols,
                outdoor=outdoor,
                per_month=per_month,
            )
        return hosts

    def host(self, code: str) -> Host:
        return self.hosts[f"{SUBCENTRE}-{code}" if code else SUBCENTRE]

    def _day(self, day: dt.date) -> holidays.Day:
        if day not in self.days:
            self.days[day] = holidays.day(day)
        return self.days[day]

    def _open(self, host: Host, day: dt.date) -> bool:
        """Whether the host runs activities on ``day``: residential stations close on public holidays."""
        kind = self._day(day)
        if kind.kind == holidays.DayKind.HOLIDAY:
            return host.kind in ("sub", "area") and host.code != "Q7"
        working = kind.kind in (holidays.DayKind.WORKDAY, holidays.DayKind.MAKEUP_WORKDAY)
        if host.code == "Q7":
            return working
        if host.kind == "res" or host.code in ("Q3", "Q5"):
            return day.weekday() != 6 or working
        return True

    def _slots(self, host: Host, day: dt.date) -> tuple[str, ...]:
        weekend = day.weekday() >= 5
        if host.code == "Q7":
            return ("12:00", "18:30")
        if host.kind == "res":
            return ("09:30",) if weekend else ("09:30", "14:00", "14:30")
        if host.kind == "area":
            return ("09:30", "14:00") if weekend else ("09:30", "14:00", "18:30")
        return ("09:30", "14:00", "19:00")

    def _where(
        self, host: Host, template: Template, start: dt.datetime, end: dt.datetime
    ) -> tuple[Venue | None, str] | None:
        """The room (taken in the calendar) or the place text; None when every fitting room is busy."""
        if template.place:
            if template.place == OUTDOOR:
                return None, host.outdoor
            return None, template.place.format(short=host.short, name=host.site.name)
        rooms = [v for name in template.rooms for v in host.venues if v.name == name] or list(host.venues)
        for venue in rooms:
            if self.rooms.free(venue.pk, start, end):
                self.rooms.take(venue.pk, start, end)
                return venue, ""
        return None

    # -- the schedule ----------------------------------------------------------------------------

    def _pick(self, host: Host, day: dt.date) -> Template:
        themed = [t for t in THEMED[day.month] if t.suits(host)]
        if themed and self._day(day).kind == holidays.DayKind.HOLIDAY:
            return self.rng.choice(themed)  # the holiday's own (春节, 国庆 …)
        own = [t for t in EVERYDAY if host.code and host.code in t.hosts.split()]
        general = [t for t in EVERYDAY if t.suits(host) and t not in own] if host.code != "Q7" else []
        roll = self.rng.random()
        if themed and roll < 0.4:
            return self.rng.choice(themed)
        if own and roll < 0.75:
            return self.rng.choice(own)
        return self.rng.choice(general or own or themed)

    def _spec(
        self,
        host: Host,
        template: Template,
        day: dt.date,
        slots: Sequence[str] | None = None,
        *,
        fate: str = "",
    ) -> Spec | None:
        """Place one activity of ``template`` on ``day``, or None when it does not fit."""
        rng = self.rng
        choices = list(slots or template.slots or self._slots(host, day))
        rng.shuffle(choices)
        for hhmm in choices:
            start = _aware(day, hhmm)
            end = start + dt.timedelta(minutes=template.minutes)
            where = self._where(host, template, start, end)
            if where is None:
                continue
            venue, location = where
            seats = min(template.seats, SEAT_CAP[host.kind], venue.capacity if venue is not None else template.seats)
            waitlist = max(2, seats // 5) if seats and (template.popular > 1 or rng.random() < 0.25) else 0
            spec = Spec(
                host=host,
                template=template,
                title=rng.choice(template.titles),
                starts_at=start,
                ends_at=end,
                venue=venue,
                location=location,
                seats=seats,
                waitlist_limit=waitlist,
                created_at=start,
                submitted_at=None,
                published_at=start,
                fate=fate or ("completed" if start < self.now else "published"),
                fill=self._fill(start, template),
            )
            self._times(spec)
            if spec.fate == "completed" and rng.random() < 0.02:
                spec.fate = "cancelled"
                outdoors = spec.venue is None and template.place != WECHAT
                spec.cancel_reason = weather(day.month) if outdoors else rng.choice(CANCEL_REASONS)
                spec.cancelled_at = _minute(spec.starts_at - dt.timedelta(hours=rng.uniform(3, 48)))
            if spec.fate == "completed":
                odds = {"sub": 0.85, "area": 0.7, "res": 0.5}[host.kind]
                spec.recap = rng.random() < (0.3 if template.lecture_format == ONLINE else odds)
            return spec
        return None

    def _fill(self, start: dt.datetime, template: Template) -> float:
        """How full it gets: past ones as they ended, upcoming ones as far as sign-up has gone."""
        rng = self.rng
        ahead = start - self.now
        if ahead <= dt.timedelta(0):
            base = rng.uniform(0.5, 0.95)
            if template.popular > 1 and rng.random() < 0.5:
                base = rng.uniform(1.02, 1.3)
        elif ahead <= dt.timedelta(days=7):
            base = rng.uniform(0.25, 0.75)
        elif ahead <= FULL_AHEAD:
            base = rng.uniform(0.08, 0.35)
        else:
            base = rng.uniform(0.0, 0.12)
        return base

    def _times(self, spec: Spec) -> None:
        """When it was drafted, submitted and published: a few days to two weeks ahead, never after now."""
        rng = self.rng
        lead = {"sub": (7, 14), "area": (5, 10), "res": (3, 7)}[spec.host.kind]
        published = spec.starts_at - dt.timedelta(days=rng.uniform(*lead))
        if published > self.now - dt.timedelta(hours=1):
            published = self.now - dt.timedelta(hours=rng.uniform(1, 60))
        published = _minute(min(published, spec.starts_at - dt.timedelta(hours=2)))
        if spec.host.approved_by_subcentre:
            spec.submitted_at = _minute(published - dt.timedelta(hours=rng.uniform(2, 30)))
            spec.created_at = _minute(spec.submitted_at - dt.timedelta(hours=rng.uniform(1, 48)))
        else:
            spec.created_at = _minute(published - dt.timedelta(hours=rng.uniform(0.2, 48)))
        spec.published_at = published

    def schedule(self) -> None:
        self._schedule_series()
        self._schedule_big_days()
        for host in self.hosts.values():
            self._schedule_routine(host)
        self._schedule_specials()
        self.specs.sort(key=lambda s: (s.starts_at, s.host.site.pk))
        # Of this week's open for sign-up, one is full with people waiting and a few nearly full.
        soon = [
            s
            for s in self.specs
            if s.fate == "published"
            and 10 <= s.seats <= 50
            and s.starts_at - self.now < WEEK
            and s.opens < self.now - dt.timedelta(hours=6)
        ]
        chosen = self.rng.sample(soon, min(4, len(soon)))
        for spec in chosen[1:]:
            spec.fill = self.rng.uniform(0.9, 1.0)
        if chosen:
            popular = next((s for s in soon if s.template is CALLIGRAPHY), chosen[0])
            popular.fill = 1.25
            popular.waitlist_limit = max(popular.waitlist_limit, 3)

    def _schedule_series(self) -> None:
        for code, weekday, hhmm, weeks_back, template in SERIES:
            host = self.hosts[code]
            first = self.today - dt.timedelta(weeks=weeks_back)
            first += dt.timedelta(days=(weekday - first.weekday()) % 7)
            dates = []
            day = first
            while _aware(day, hhmm) < self.horizon:
                dates.append(day)
                day += dt.timedelta(weeks=1)
            skip = {d for d in dates if holidays.is_public_holiday(d)}
            start0 = _aware(first, hhmm)
            created = _minute(start0 - dt.timedelta(days=12))
            submitted = created + dt.timedelta(hours=2) if host.approved_by_subcentre else None
            published = (submitted or created) + dt.timedelta(hours=20 if submitted else 1)
            rooms = [v for name in template.rooms for v in host.venues if v.name == name] or host.venues[:1]
            specs = []
            for day in dates:
                if day in skip:
                    continue
                start = _aware(day, hhmm)
                end = start + dt.timedelta(minutes=template.minutes)
                venue = rooms[0] if rooms else None
                if venue is not None:
                    self.rooms.take(venue.pk, start, end)
                seats = min(template.seats, venue.capacity) if venue is not None else template.seats
                spec = Spec(
                    host=host,
                    template=template,
                    title=template.titles[0],
                    starts_at=start,
                    ends_at=end,
                    venue=venue,
                    location="" if venue is not None else host.outdoor,
                    seats=seats,
                    waitlist_limit=5,
                    created_at=created,
                    submitted_at=submitted,
                    published_at=published,
                    signup_opens_at=start - dt.timedelta(days=7),
                    fate="completed" if start < self.now else "published",
                    fill=self._fill(start, template),
                    in_series=True,
                )
                spec.recap = spec.fate == "completed" and self.rng.random() < 0.25
                specs.append(spec)
            upcoming = [s for s in specs if s.starts_at > self.now]
            if template is CALLIGRAPHY and len(upcoming) >= 3:
                # The class in three weeks is skipped.
                upcoming[2].fate = "cancelled"
                upcoming[2].cancel_reason = "书法老师外出参加培训，本周停课一次。"
                upcoming[2].cancelled_at = _minute(self.now - dt.timedelta(hours=5))
            self.series.append((host, template, specs, skip))
            self.specs.extend(specs)

    def _in_range(self, start: dt.datetime) -> bool:
        return _aware(self.first_day, "00:00") <= start < self.horizon

    def _schedule_big_days(self) -> None:
        sub = self.host("")
        for year in range(self.first_day.year, self.horizon.year + 1):
            for when, offset, hhmm, template in BIG_DAYS:
                if isinstance(when, str):
                    if year not in LUNAR:
                        continue
                    day = dt.date(year, *LUNAR[year][when]) + dt.timedelta(days=offset)
                else:
                    day = dt.date(year, *when) + dt.timedelta(days=offset)
                if not self._in_range(_aware(day, hhmm)):
                    continue
                spec = self._spec(sub, template, day, (hhmm,))
                if spec is not None and self._published_by_now(spec):
                    self.specs.append(spec)

    def _published_by_now(self, spec: Spec) -> bool:
        """Beyond two weeks ahead only the sub-centre and area stations have published anything."""
        if spec.starts_at - self.now <= FULL_AHEAD:
            return True
        if spec.host.kind == "res":
            return False
        return self.rng.random() < 0.7

    def _schedule_routine(self, host: Host) -> None:
        """The host's everyday activities, ``per_month`` of them spread evenly (周有活动), each week alike."""
        rng = self.rng
        gap = 30.4 / host.per_month
        last = self.horizon.date()
        moment = rng.uniform(0, gap)
        while True:
            day = self.first_day + dt.timedelta(days=int(moment))
            if day >= last:
                return
            moment += gap * rng.uniform(0.8, 1.2)
            for nudge in (0, 1, -1, 2):
                near = day + dt.timedelta(days=nudge)
                if self.first_day <= near < last and self._open(host, near):
                    spec = self._spec(host, self._pick(host, near), near)
                    if spec is not None and self._published_by_now(spec):
                        self.specs.append(spec)
                    break

    def _schedule_specials(self) -> None:
        """One waiting for approval (和乐, 张站长), one draft (春晖, 李站长), one cancelled (the sub-centre)."""
        monday = holidays.monday_of(self.today)
        for code, week, fate in (("R01", 1, "submitted"), ("R02", 2, "draft"), ("", 1, "cancelled")):
            host = self.host(code)
            for offset in range(14):
                day = monday + dt.timedelta(weeks=week, days=offset + 3 if offset < 4 else offset - 4)
                if not self._open(host, day) or _aware(day, "00:00") < self.now:
                    continue
                if fate == "submitted":
                    template = _template("家庭医生健康讲座：高血压的日常管理")
                elif fate == "draft":  # next month's theme, being prepared
                    template = next(t for t in THEMED[day.month] if t.suits(host) and t.seats)
                else:
                    template = RIVERSIDE_WALK
                spec = self._spec(host, template, day, fate=fate)
                if spec is None:
                    continue
                if fate == "submitted":
                    spec.submitted_at = _minute(self.now - dt.timedelta(hours=3))
                    spec.created_at = _minute(self.now - dt.timedelta(hours=26))
                elif fate == "draft":
                    spec.created_at = _minute(self.now - dt.timedelta(hours=2))
                else:
                    spec.cancel_reason = weather(day.month)
                    spec.cancelled_at = _minute(
                        self._between(spec.published_at + dt.timedelta(minutes=30), self.now - dt.timedelta(minutes=10))
                    )
                self.specs.append(spec)
                break

    # -- who comes ---------------------------------------------------------------------------------

    def _regulars(self, spec: Spec) -> list[User]:
        """The personas, at the places they frequent: 王阿姨 at 和乐 and the calligraphy class, 刘大爷 at 春晖."""
        code, rng = spec.host.code, self.rng
        wang = 0.9 if spec.template is CALLIGRAPHY else {"R01": 0.6, "Q1": 0.35, "": 0.25}.get(code, 0.0)
        liu = {"R02": 0.6, "Q1": 0.3}.get(code, 0.3 if spec.template.platform == FITNESS else 0.0)
        return [p for p, odds in ((self.personas["wang"], wang), (self.personas["liu"], liu)) if rng.random() < odds]

    def _choose(
        self, spec: Spec, pool: Sequence[User], count: int, taken: set[int], first: Sequence[User]
    ) -> list[User]:
        """``count`` people from ``pool``, locals more likely, none already in or busy elsewhere then."""
        if count <= 0:
            return []
        start, end = spec.starts_at - dt.timedelta(minutes=45), spec.ends_at + dt.timedelta(minutes=30)
        rng, local = self.rng, spec.host.locals
        # A sample three times the need, locals drawn forward: enough to skip those busy, cheap for big pools.
        sample = rng.sample(pool, min(len(pool), count * 3 + 6))
        keyed = [(rng.random() * (0.3 if p.pk in local else 1.0), i) for i, p in enumerate(sample)]
        ranked = [sample[i] for _key, i in sorted(keyed)]
        chosen: list[User] = []
        for person in [*first, *ranked]:
            if len(chosen) >= count:
                break
            if person.pk in taken or not self.people.free(person.pk, start, end):
                continue
            taken.add(person.pk)
            self.people.take(person.pk, start, end)
            chosen.append(person)
        return chosen

    def _between(self, first: dt.datetime, last: dt.datetime, skew: float = 1.0) -> dt.datetime:
        """A moment in [first, last], nearer the start for skew > 1 (sign-ups come early)."""
        if last <= first:
            return first
        return (first + (last - first) * (self.rng.random() ** skew)).replace(microsecond=0)

    def make_turns(self, spec: Spec) -> None:
        if spec.fate in ("draft", "submitted"):
            return
        rng = self.rng
        host = spec.host
        taken: set[int] = set()
        # Sign-ups and cancellations stop when the activity is called off.
        until = min(self.now, spec.cancelled_at - dt.timedelta(minutes=1)) if spec.cancelled_at else self.now
        # Volunteers first: their posts are few and planned ahead.
        vols_first = [v for v in host.volunteers if v.user_id == self.personas["chen"].pk and host.code in ("R01", "")]
        by_user = {v.user.pk: v for v in host.volunteers}
        for name, headcount, post_start, post_end, _duty in spec.posts():
            if spec.starts_at < self.now:
                wanted = headcount if rng.random() < 0.85 else headcount - 1
            else:
                wanted = round(headcount * min(1.0, spec.fill + 0.3))
            first = [v.user for v in vols_first if rng.random() < 0.6]
            for user in self._choose(spec, [v.user for v in host.volunteers], wanted, taken, first):
                if user.pk not in by_user:
                    continue
                at = self._between(spec.opens, min(spec.starts_at - dt.timedelta(hours=20), until))
                if at > until:
                    continue
                turn = Turn(user=user, at=at, by=user, post=name)
                if spec.starts_at < self.now and rng.random() < 0.03:
                    turn.cancel_at = self._between(at, spec.starts_at - dt.timedelta(hours=3))
                elif rng.random() < 0.95 and spec.fate != "cancelled":
                    checkin = _snap(
                        max(
                            post_start - dt.timedelta(minutes=rng.uniform(0, 12)),
                            spec.starts_at - activity_services.CHECKIN_EARLY + dt.timedelta(seconds=1),
                        ),
                        post_start,
                    )
                    checkout = _snap(post_end + dt.timedelta(minutes=rng.uniform(-6, 18)), post_start)
                    if checkin <= self.now:
                        turn.checkin_at, turn.checkin_by = checkin, host.organiser
                        if checkout <= self.now:
                            turn.checkout_at = checkout
                if turn.cancel_at is not None and turn.cancel_at > until:
                    turn.cancel_at = None
                spec.turns.append(turn)
        if spec.seats == 0:
            return
        close = min(spec.starts_at - dt.timedelta(minutes=30), until)
        if close <= spec.opens:
            return
        # A big hall fills up more slowly than a residential room.
        demand = spec.seats * spec.fill * (0.6 if spec.seats > 50 else 1.0)
        cancels = round(demand * rng.uniform(0.03, 0.12)) if spec.starts_at - self.now < FULL_AHEAD else 0
        people = self._choose(spec, host.residents, round(demand) + cancels, taken, self._regulars(spec))
        turnout = rng.uniform(0.78, 0.93)
        for person in people:
            by = person
            if spec.template.audience == Audience.ELDERLY and rng.random() < 0.15:
                by = host.organiser  # 电话报名: the station signs an elderly resident up
            at = self._between(spec.opens, close, skew=1.8)
            turn = Turn(user=person, at=at, by=by)
            if spec.fate != "cancelled" and rng.random() < turnout:
                early = rng.random() < 0.8
                checkin = spec.starts_at + dt.timedelta(
                    minutes=-rng.uniform(1, 28) if early else rng.uniform(0.5, 20), seconds=rng.randint(0, 59)
                )
                if checkin <= self.now:
                    turn.checkin_at = checkin.replace(microsecond=0)
                    turn.checkin_by = host.organiser if rng.random() < 0.65 else person
            spec.turns.append(turn)
        last_cancel = min(spec.starts_at - dt.timedelta(hours=2, minutes=1), until)
        for turn in rng.sample([t for t in spec.turns if not t.post], min(cancels, len(people))):
            if turn.at < last_cancel:
                turn.cancel_at = self._between(turn.at + dt.timedelta(minutes=5), last_cancel)
                turn.checkin_at = turn.checkin_by = None

    def replay(self, spec: Spec) -> None:
        """Settle each sign-up as the services would: seats first come, then the waitlist, promotions on cancel."""
        events = sorted(
            [(t.at, 0, i, t) for i, t in enumerate(spec.turns)]
            + [(t.cancel_at, 1, i, t) for i, t in enumerate(spec.turns) if t.cancel_at is not None],
            key=lambda e: (e[0], e[1], e[2]),
        )
        confirmed: list[Turn] = []
        waiting: list[Turn] = []
        for at, kind, _index, turn in events:
            if turn.post:
                turn.status = SignupStatus.CANCELLED if kind else SignupStatus.CONFIRMED
                continue
            if kind == 0:
                if len(confirmed) < spec.seats:
                    turn.status = SignupStatus.CONFIRMED
                    confirmed.append(turn)
                elif len(waiting) < spec.waitlist_limit:
                    turn.status = SignupStatus.WAITLISTED
                    waiting.append(turn)
                continue
            if turn.status == SignupStatus.CONFIRMED:
                confirmed.remove(turn)
                if waiting and at < spec.starts_at:
                    promoted = waiting.pop(0)
                    promoted.status, promoted.promoted_at = SignupStatus.CONFIRMED, at
                    confirmed.append(promoted)
            elif turn.status == SignupStatus.WAITLISTED:
                waiting.remove(turn)
            if turn.status:
                turn.status = SignupStatus.CANCELLED
        for turn in spec.turns:
            if turn.status != SignupStatus.CONFIRMED:
                turn.checkin_at = turn.checkin_by = turn.checkout_at = None

    # -- plans and themes (services) ------------------------------------------------------------

    def write_plans(self) -> int:
        """The sub-centre's plan for every year the demo touches; the stations' for this year and the next.

        A station's activities in a year it has no plan of its own belong to
        the sub-centre's (``services.plan_for``).
        """
        made = 0
        for code in ("", *PLAN_STATIONS):
            host = self.host(code)
            first = self.first_day.year if not code else self.today.year
            for year in range(first, self.horizon.year + 1):
                plan = activity_services.create_plan(
                    actor=host.organiser,
                    site=host.site,
                    year=year,
                    title=f"{host.short}{year}年新时代文明实践工作计划",
                    description="按照“年有计划、月有主题、周有活动”的要求，围绕理论宣讲、教育服务、文化服务、"
                    "科技与科普服务、健身体育服务五大平台安排全年活动，每周公布活动预告。",
                )
                for month, (theme, description) in MONTHLY_THEMES.items():
                    own = STATION_THEMES.get(code, {}).get(month)
                    activity_services.set_monthly_theme(
                        actor=host.organiser,
                        plan=plan,
                        month=month,
                        theme=own or theme,
                        description=description if not own else f"结合本站品牌特色：{own}。{description}",
                    )
                made += 1
        return made

    def theme(self, spec: Spec) -> str:
        """The monthly theme the activity falls under (its own site's plan, else the sub-centre's)."""
        month = timezone.localtime(spec.starts_at).month
        own = STATION_THEMES.get(spec.host.code, {}).get(month) if spec.host.code in PLAN_STATIONS else None
        return own or MONTHLY_THEMES[month][0]

    # -- activities through the services --------------------------------------------------------

    def _fields(self, spec: Spec) -> dict[str, Any]:
        template, project = spec.template, spec.project
        audience = Audience(template.audience).label
        description = template.blurb + (f"面向{audience}，欢迎报名。" if spec.seats else "")
        return {
            "title": spec.title,
            "description": description,
            "venue": spec.venue,
            "location": spec.location,
            "brand": project.brand if project is not None else None,
            "project": project,
            "platform": template.platform,
            "lecture_format": template.lecture_format,
            "audience": template.audience,
            "starts_at": spec.starts_at,
            "ends_at": spec.ends_at,
            "seats": spec.seats,
            "waitlist_limit": spec.waitlist_limit,
            "signup_opens_at": spec.opens if spec.seats else None,
            "cancel_deadline": spec.starts_at - dt.timedelta(hours=2) if spec.seats else None,
            "contact_name": spec.host.site.contact_name,
            "contact_phone": spec.host.site.contact_phone,
        }

    def _post_specs(self, spec: Spec) -> list[dict[str, Any]]:
        return [
            {"name": name, "headcount": headcount, "starts_at": start, "ends_at": end, "description": duty}
            for name, headcount, start, end, duty in spec.posts()
        ]

    def write_series(self) -> None:
        for host, _template, specs, skip in self.series:
            if not specs:
                continue
            first = specs[0]
            series = activity_services.create_series(
                actor=host.organiser,
                site=host.site,
                last_date=timezone.localdate(specs[-1].starts_at),
                posts=self._post_specs(first),
                skip_dates=skip,
                **self._fields(first),
            )
            activity_services.submit_series(actor=host.organiser, series=series)
            occurrences = {a.series_date: a for a in series.occurrences.select_related("site")}
            for spec in specs:
                activity = occurrences[timezone.localdate(spec.starts_at)]
                if activity.status == ActivityStatus.SUBMITTED:
                    activity_services.approve_activity(actor=self.admin, activity=activity)
                spec.activity = activity
            Series.objects.filter(pk=series.pk).update(created_at=first.created_at)

    def write_activity(self, spec: Spec) -> None:
        host = spec.host
        activity = activity_services.create_activity(
            actor=host.organiser, site=host.site, posts=self._post_specs(spec), **self._fields(spec)
        )
        spec.activity = activity
        if spec.fate == "draft":
            return
        activity_services.submit_activity(actor=host.organiser, activity=activity)
        if activity.status == ActivityStatus.SUBMITTED and spec.fate != "submitted":
            activity_services.approve_activity(actor=self.admin, activity=activity)

    def attend(self, spec: Spec) -> None:
        """Sign-ups, cancellations, check-ins and check-outs of one activity, through the services, in time order."""
        activity = spec.activity
        assert activity is not None
        if spec.fate in ("draft", "submitted"):
            return
        posts = {p.name: p for p in activity.posts.all()}
        events = sorted(
            [(t.at, 0, i, t) for i, t in enumerate(spec.turns)]
            + [(t.cancel_at, 1, i, t) for i, t in enumerate(spec.turns) if t.cancel_at is not None],
            key=lambda e: (e[0], e[1], e[2]),
        )
        for at, kind, _index, turn in events:
            if kind == 0:
                try:
                    turn.signup = activity_services.sign_up(
                        actor=turn.by,
                        activity=activity,
                        user=turn.user if turn.by.pk != turn.user.pk else None,
                        post=posts.get(turn.post),
                        now=at,
                    )
                except DomainError:
                    turn.signup = None  # full: this person was turned away
            elif turn.signup is not None:
                activity_services.cancel_signup(actor=turn.user, signup=turn.signup, now=at)
        if spec.fate == "cancelled":
            assert spec.cancelled_at is not None
            if spec.in_series:
                activity_services.skip_occurrence(
                    actor=spec.host.organiser, activity=activity, reason=spec.cancel_reason
                )
            else:
                activity_services.cancel_activity(
                    actor=spec.host.organiser, activity=activity, reason=spec.cancel_reason
                )
            return
        live = {s.user_id: s for s in activity.signups.filter(status=SignupStatus.CONFIRMED)}
        onsite = activity_services.onsite_token(activity)
        for turn in spec.turns:
            signup = live.get(turn.user.pk)
            if signup is None or turn.checkin_at is None or turn.checkin_by is None:
                continue
            if turn.checkin_by.pk == turn.user.pk:
                scan = activity_services.self_check_in(
                    actor=turn.user, activity=activity, token=onsite, now=turn.checkin_at
                )
            else:
                scan = activity_services.check_in(
                    actor=turn.checkin_by,
                    activity=activity,
                    token=activity_services.signup_token(signup),
                    now=turn.checkin_at,
                )
            assert scan.ok, (spec.title, scan.outcome)
            turn.signup = scan.signup
            if turn.checkout_at is not None and scan.signup is not None:
                out = activity_services.check_out(actor=spec.host.organiser, signup=scan.signup, now=turn.checkout_at)
                turn.signup = out.signup

    # -- the year before: bulk ----------------------------------------------------------------------

    def _plan(self, site: Site, day: dt.date) -> Plan | None:
        key = (site.pk, day.year)
        if key not in self.plans:
            self.plans[key] = activity_services.plan_for(site, day)
        return self.plans[key]

    def _code(self, taken: set[str]) -> str:
        while True:
            code = "".join(self.rng.choices(CODE_ALPHABET, k=activity_services.CODE_LENGTH))
            if code not in taken:
                taken.add(code)
                return code

    def write_bulk(self, specs: list[Spec]) -> None:
        """The year before the service window, straight into the tables (the module's docstring says why).

        ``specs`` are past activities: those not in a series are written
        whole; series occurrences exist already (the services made them) and
        only get their sign-ups. Counters are the replayed rows' counts.
        """
        writer = Writer()
        for spec in specs:
            self.replay(spec)

        def confirmed(spec: Spec, post: str = "") -> int:
            return sum(1 for t in spec.turns if t.status == SignupStatus.CONFIRMED and t.post == post)

        def waiting(spec: Spec) -> int:
            return sum(1 for t in spec.turns if t.status == SignupStatus.WAITLISTED)

        fresh = [s for s in specs if not s.in_series]
        rows = []
        for spec in fresh:
            fields = self._fields(spec)
            local_day = timezone.localdate(spec.starts_at)
            plan = self._plan(spec.host.site, local_day)
            rows.append(
                {
                    **{k: v for k, v in fields.items() if k not in ("venue", "brand", "project")},
                    "site_id": spec.host.site.pk,
                    "venue_id": spec.venue.pk if spec.venue is not None else None,
                    "brand_id": fields["brand"].pk if fields["brand"] is not None else None,
                    "project_id": fields["project"].pk if fields["project"] is not None else None,
                    "plan_id": plan.pk if plan is not None else None,
                    "week_start": holidays.monday_of(local_day),
                    "status": ActivityStatus.CANCELLED if spec.fate == "cancelled" else ActivityStatus.COMPLETED,
                    "cancel_reason": spec.cancel_reason,
                    "confirmed_count": confirmed(spec),
                    "waitlist_count": waiting(spec),
                    "checkin_opens_at": spec.starts_at - activity_services.CHECKIN_EARLY,
                    "checkin_closes_at": spec.ends_at,
                    "created_by_id": spec.host.organiser.pk,
                    "created_at": spec.created_at,
                    "published_at": spec.published_at,
                }
            )
        for spec, pk in zip(fresh, _Table(writer, Activity).write(rows), strict=True):
            spec.pk = pk

        # Series occurrences: their counters and posts' counters.
        old = {s.activity.pk: s for s in specs if s.in_series and s.activity is not None}
        for spec in old.values():
            assert spec.activity is not None
            spec.pk = spec.activity.pk
            spec.activity.confirmed_count = confirmed(spec)
            spec.activity.waitlist_count = waiting(spec)
        Activity.objects.bulk_update(
            [s.activity for s in old.values() if s.activity is not None], ["confirmed_count", "waitlist_count"]
        )
        posts: dict[tuple[int, str], Post] = {}
        series_posts = list(Post.objects.filter(activity_id__in=old))
        for post in series_posts:
            post.filled_count = confirmed(old[post.activity_id], post.name)
            posts[post.activity_id, post.name] = post
        Post.objects.bulk_update(series_posts, ["filled_count"])
        new_posts = [
            Post(
                activity_id=_id(spec.pk),
                name=name,
                description=duty,
                headcount=headcount,
                filled_count=confirmed(spec, name),
                starts_at=start,
                ends_at=end,
            )
            for spec in fresh
            for name, headcount, start, end, duty in spec.posts()
        ]
        table = _Table(writer, Post)
        for post, pk in zip(new_posts, table.write([{**vars(p), "id": None} for p in new_posts]), strict=True):
            post.pk = post.id = pk
            posts[post.activity_id, post.name] = post

        signup_rows: list[dict[str, Any]] = []
        signup_turns: list[Turn] = []
        for spec in specs:
            assert spec.pk is not None
            codes: set[str] = set()
            for turn in spec.turns:
                if not turn.status:
                    continue  # turned away: the activity was full
                at_post = posts[spec.pk, turn.post] if turn.post else None
                signup_rows.append(
                    {
                        "activity_id": spec.pk,
                        "user_id": turn.user.pk,
                        "kind": SignupKind.VOLUNTEER if at_post is not None else SignupKind.RESIDENT,
                        "post_id": at_post.pk if at_post is not None else None,
                        "status": turn.status,
                        "code": self._code(codes),
                        "created_at": turn.at,
                        "created_by_id": turn.by.pk,
                        "promoted_at": turn.promoted_at,
                        "cancelled_at": turn.cancel_at if turn.status == SignupStatus.CANCELLED else None,
                        "checked_in_at": turn.checkin_at,
                        "checked_in_by_id": turn.checkin_by.pk if turn.checkin_by is not None else None,
                        "checked_out_at": turn.checkout_at,
                    }
                )
                signup_turns.append(turn)
        for turn, pk in zip(signup_turns, _Table(writer, Signup).write(signup_rows), strict=True):
            turn.signup_id = pk

        # The ledger: what check_out would have written, with its audit row.
        volunteer_of = {v.user.pk: v for v in self.volunteers}
        entries: list[dict[str, Any]] = []
        for spec in specs:
            assert spec.pk is not None
            for turn in spec.turns:
                if not turn.post or turn.signup_id is None or turn.checkout_at is None:
                    continue
                post = posts[spec.pk, turn.post]
                hours = _hours(post, turn)
                if hours <= 0 or turn.checkin_at is None:
                    continue
                entries.append(
                    {
                        "volunteer_id": volunteer_of[turn.user.pk].pk,
                        "description": f"{spec.title} · {post.name}"[:200],
                        "site_id": spec.host.site.pk,
                        "started_at": max(turn.checkin_at, post.starts_at),
                        "ended_at": min(turn.checkout_at, post.ends_at),
                        "hours": hours,
                        "source": ServiceSource.ACTIVITY,
                        "source_ref": f"signup:{turn.signup_id}",
                        "organiser_site_id": spec.host.site.pk,
                        "recorder_id": spec.host.organiser.pk,
                        "recorded_at": turn.checkout_at,
                    }
                )
        entry_ids = _Table(writer, ServiceRecord).write(entries)
        _Table(writer, AuditLog).write(
            [
                {
                    "created_at": e["recorded_at"],
                    "actor_id": e["recorder_id"],
                    "action": AuditAction.LEDGER_ENTRY,
                    "target_type": "volunteers.servicerecord",
                    "target_id": str(pk),
                    "site_id": e["site_id"],
                    "detail": {"hours": str(e["hours"]), "source": "demo"},
                }
                for e, pk in zip(entries, entry_ids, strict=True)
            ]
        )

        # Rooms held by these activities, with the hold's history.
        held = [s for s in fresh if s.venue is not None]
        hold_ids = _Table(writer, Booking).write(
            [
                {
                    "venue_id": spec.venue.pk if spec.venue is not None else None,
                    "requester_id": spec.publisher.pk,
                    "activity_id": spec.pk,
                    "purpose": spec.title[: booking_services.PURPOSE_MAX],
                    "attendees": max(1, spec.seats),
                    "starts_at": spec.starts_at,
                    "ends_at": spec.ends_at,
                    "status": BookingStatus.CANCELLED if spec.fate == "cancelled" else BookingStatus.APPROVED,
                    "created_at": spec.published_at,
                    "decided_by_id": spec.publisher.pk,
                    "decided_at": spec.published_at,
                    "decision_note": "活动占用",
                }
                for spec in held
            ]
        )
        hold_history: list[dict[str, Any]] = []
        for spec, pk in zip(held, hold_ids, strict=True):
            hold_history.append(
                {
                    "booking_id": pk,
                    "to_status": BookingStatus.APPROVED,
                    "actor_id": spec.publisher.pk,
                    "at": spec.published_at,
                    "note": "活动占用",
                }
            )
            if spec.fate == "cancelled":
                hold_history.append(
                    {
                        "booking_id": pk,
                        "from_status": BookingStatus.APPROVED,
                        "to_status": BookingStatus.CANCELLED,
                        "actor_id": spec.host.organiser.pk,
                        "at": spec.cancelled_at,
                        "note": "活动释放场地",
                    }
                )
        _Table(writer, BookingChange).write(hold_history)

        # Each activity's history: drafted, submitted, published, then completed or cancelled.
        history: list[dict[str, Any]] = []
        for spec in fresh:
            organiser = spec.host.organiser.pk
            steps: list[tuple[str, str, int | None, dt.datetime | None, str]] = [
                ("", ActivityStatus.DRAFT, organiser, spec.created_at, "")
            ]
            last: str = ActivityStatus.DRAFT
            if spec.submitted_at is not None:
                steps.append((last, ActivityStatus.SUBMITTED, organiser, spec.submitted_at, ""))
                last = ActivityStatus.SUBMITTED
            steps.append((last, ActivityStatus.PUBLISHED, spec.publisher.pk, spec.published_at, ""))
            if spec.fate == "cancelled":
                steps.append(
                    (
                        ActivityStatus.PUBLISHED,
                        ActivityStatus.CANCELLED,
                        organiser,
                        spec.cancelled_at,
                        spec.cancel_reason,
                    )
                )
            else:
                done = spec.ends_at + dt.timedelta(minutes=self.rng.randint(5, 15))
                steps.append((ActivityStatus.PUBLISHED, ActivityStatus.COMPLETED, None, done, ""))
            history.extend(
                {"activity_id": spec.pk, "from_status": a, "to_status": b, "actor_id": who, "at": at, "note": note}
                for a, b, who, at, note in steps
            )
        _Table(writer, StatusChange).write(history)

        _Table(writer, Recap).write(
            [self._recap_row(spec, posts) for spec in specs if spec.recap and spec.fate == "completed"]
        )

    # -- recaps ----------------------------------------------------------------------------------

    def _recap_text(self, spec: Spec, residents: int, volunteers: int, hours: Decimal) -> tuple[str, str]:
        rng = self.rng
        start = timezone.localtime(spec.starts_at)
        part = "上午" if start.hour < 12 else ("下午" if start.hour < 18 else "晚上")
        where = spec.venue.name if spec.venue is not None else spec.location
        title = spec.title
        heading = rng.choice((f"{title}圆满举行", f"{spec.host.short}开展“{title}”活动", f"“{title}”活动回顾"))
        counts = []
        if residents:
            counts.append(f"共有{residents}名居民参加")
        if volunteers:
            counts.append(f"{volunteers}名志愿者参与服务，累计服务{hours}小时")
        body = (
            f"{start.month}月{start.day}日{part}，{spec.host.site.name}在{where}开展“{title}”活动。"
            f"{spec.template.blurb}"
            + ("本次活动" + "，".join(counts) + "。" if counts else "")
            + rng.choice(RECAP_CLOSINGS[spec.template.platform])
            + rng.choice(NEXT_STEPS).format(short=spec.host.short, theme=self.theme(spec))
        )
        return heading[:100], body

    def _recap_at(self, spec: Spec) -> dt.datetime:
        return min(
            (spec.ends_at + dt.timedelta(hours=self.rng.uniform(2, 50))).replace(microsecond=0),
            self.now - dt.timedelta(minutes=10),
        )

    def _recap_row(self, spec: Spec, posts: dict[tuple[int, str], Post]) -> dict[str, Any]:
        assert spec.pk is not None
        came = [t for t in spec.turns if t.checkin_at is not None]
        served = [t for t in came if t.post and t.checkout_at is not None]
        hours = sum((_hours(posts[spec.pk, t.post], t) for t in served), Decimal("0.00"))
        title, body = self._recap_text(spec, sum(1 for t in came if not t.post), len(served), hours)
        return {
            "activity_id": spec.pk,
            "title": title,
            "body": body,
            "author_id": spec.host.organiser.pk,
            "published_at": self._recap_at(spec),
        }

    def write_recaps(self, specs: list[Spec]) -> list[tuple[Recap, dt.datetime]]:
        """Recaps of the last days' activities, through ``publish_recap``; the times they were published."""
        made = []
        for spec in specs:
            activity = spec.activity
            if not spec.recap or activity is None or spec.ends_at > self.now:
                continue
            counts = activity_services.attendance(activity)
            entries = ServiceRecord.objects.filter(
                source=ServiceSource.ACTIVITY, source_ref__in=[f"signup:{t.signup.pk}" for t in spec.turns if t.signup]
            )
            hours = sum((e.hours for e in entries), Decimal("0.00"))
            residents = activity.signups.filter(kind=SignupKind.RESIDENT, checked_in_at__isnull=False).count()
            title, body = self._recap_text(spec, residents, counts["checked_out"], hours)
            recap = activity_services.publish_recap(
                actor=spec.host.organiser, activity=activity, title=title, body=body, now=self.now
            )
            made.append((recap, self._recap_at(spec)))
        return made

    # -- hours corrections --------------------------------------------------------------------------

    def mark_corrections(self, specs: list[Spec]) -> None:
        """Two volunteers of the last fortnight were checked in and out together at the end: no hours recorded."""
        candidates = [
            (spec, turn)
            for spec in sorted(specs, key=lambda s: s.starts_at, reverse=True)
            if spec.fate == "completed" and spec.ends_at < self.now - dt.timedelta(hours=6)
            for turn in spec.turns
            if turn.post and turn.checkout_at is not None and turn.cancel_at is None
        ]
        seen: set[int] = set()
        marks = ["approved", "pending"]
        for spec, turn in candidates:
            if not marks or turn.user.pk in seen:
                continue
            late = min(spec.ends_at, max(end for name, _h, _s, end, _d in spec.posts() if name == turn.post))
            turn.checkin_at = turn.checkout_at = (late - dt.timedelta(minutes=4)).replace(microsecond=0)
            turn.checkin_by = spec.host.organiser
            turn.correction = marks.pop(0)
            seen.add(turn.user.pk)

    def write_corrections(self, specs: list[Spec]) -> int:
        made = 0
        for spec in specs:
            for turn in spec.turns:
                if not turn.correction:
                    continue
                signup = turn.signup
                if signup is None and turn.signup_id is not None:
                    signup = Signup.objects.select_related("activity__site", "post").get(pk=turn.signup_id)
                if signup is None or signup.post is None:
                    continue
                post = signup.post
                hours = (Decimal((post.ends_at - post.starts_at).total_seconds()) / Decimal(3600)).quantize(
                    Decimal("0.01")
                )
                reason = (
                    "到场时忘记扫码签到，活动结束时才由工作人员补签，实际全程在岗。"
                    if turn.correction == "approved"
                    else "手机没电未能按时签到，结束后补签，系统未记录服务时长。"
                )
                correction = activity_services.request_hours_correction(
                    actor=turn.user, signup=signup, hours=hours, reason=reason
                )
                if turn.correction == "approved":
                    activity_services.decide_hours_correction(
                        actor=spec.host.organiser,
                        correction=correction,
                        approve=True,
                        note="经核实签到表和现场照片，该志愿者全程在岗。",
                    )
                made += 1
        return made

    # -- venue bookings (services) --------------------------------------------------------------------

    def write_bookings(self) -> int:
        """Bookings by residents and units over the last ten weeks and the next four, through the services."""
        rng = self.rng
        sub = self.host("")
        r01 = self.host("R01")
        hall = next(v for v in sub.venues if v.name == "报告厅")
        r01_room = next(v for v in r01.venues if v.name == "综合活动室")
        # 和乐's room needs no approval; the sub-centre's hall must be booked a day ahead.
        booking_services.save_venue_rules(actor=self.admin, venue=r01_room, needs_approval=False)
        booking_services.save_venue_rules(actor=self.admin, venue=hall, min_hours_ahead=24)
        bookable = {h.site.pk: [v for v in h.venues if v.is_bookable] for h in self.hosts.values()}
        zone_of = {h.site.pk: h for h in self.hosts.values()}
        liaisons = list(
            Liaison.objects.filter(organization__site__path__startswith=sub.site.path).select_related(
                "organization__site", "user"
            )
        )
        residents = [u for u in sub.residents if u.home_site_id in zone_of]
        no_shows: list[Booking] = []
        made = 0

        def venues_for(site_id: int | None) -> list[Venue]:
            near = bookable.get(site_id, []) if site_id is not None and site_id != sub.site.pk else []
            return [*near, *bookable[sub.site.pk]]

        def book(
            user: User,
            purpose: tuple[str, int, int],
            venues: list[Venue],
            first: dt.datetime,
            last: dt.datetime,
            *,
            unit: Any = None,
            outcome: str,
        ) -> Booking | None:
            name, attendees, minutes = purpose
            fitting = [v for v in venues if v.capacity >= attendees]
            if outcome in ("rejected", "pending"):
                fitting = [v for v in fitting if v.pk != r01_room.pk]  # that room approves at once
            for _attempt in range(12):
                if not fitting:
                    return None
                venue = rng.choice(fitting[:4])
                day = timezone.localdate(self._between(first, last))
                if holidays.is_public_holiday(day):
                    continue
                start = _aware(day, f"{rng.randint(9, 19 - minutes // 60):02d}:{rng.choice(('00', '30'))}")
                end = start + dt.timedelta(minutes=minutes)
                if not (first <= start and end <= last) or not self.rooms.free(venue.pk, start, end):
                    continue
                if not self.people.free(user.pk, start, end):
                    continue
                ahead = dt.timedelta(hours=rng.uniform(26, 24 * 6))
                asked = _minute(min(start - ahead, self.now - dt.timedelta(minutes=rng.randint(20, 600))))
                asked = max(asked, _minute(start - dt.timedelta(days=29)))
                if asked > start - dt.timedelta(hours=26):
                    continue
                booking = booking_services.request_booking(
                    actor=user,
                    venue=venue,
                    starts_at=start,
                    ends_at=end,
                    purpose=name,
                    attendees=min(venue.capacity, max(1, attendees + rng.randint(-3, 3))),
                    organization=unit,
                    now=asked,
                )
                self.rooms.take(venue.pk, start, end)
                self.people.take(user.pk, start, end)
                decider = zone_of[venue.site_id].organiser
                decided = min(asked + dt.timedelta(hours=rng.uniform(1, 20)), self.now, start - dt.timedelta(hours=1))
                decided = decided.replace(microsecond=0)
                if booking.status == BookingStatus.PENDING:
                    if outcome == "rejected":
                        booking_services.reject_booking(
                            actor=decider, booking=booking, reason=rng.choice(REJECT_REASONS), now=decided
                        )
                    elif outcome != "pending":
                        booking_services.approve_booking(actor=decider, booking=booking, now=decided)
                if outcome == "cancelled" and booking.status in (BookingStatus.PENDING, BookingStatus.APPROVED):
                    booking_services.cancel_booking(
                        actor=user,
                        booking=booking,
                        reason="活动改期，取消本次预约。",
                        now=self._between(decided, min(start, self.now)),
                    )
                if booking.status == BookingStatus.APPROVED and end <= self.now:
                    if outcome == "no_show":
                        no_shows.append(booking)
                    else:
                        booking_services.check_in_booking(
                            actor=user,
                            booking=booking,
                            now=start - dt.timedelta(minutes=rng.uniform(0, 20), seconds=rng.randint(0, 59)),
                        )
                return booking
            return None

        back = self.now - BOOKINGS_BACK
        yesterday = self.now - dt.timedelta(hours=3)
        ahead_first, ahead_last = self.now + dt.timedelta(days=1, hours=3), self.horizon - dt.timedelta(hours=3)
        wang = self.personas["wang"]
        plan: list[tuple[User, tuple[str, int, int], list[Venue], dt.datetime, dt.datetime, Any, str]] = []
        # 王阿姨's choir in 和乐's room (no approval needed), and 孙经理's company at the sub-centre.
        choir = ("合唱队排练", 15, 120)
        plan += [(wang, choir, [r01_room], back, yesterday, None, "checked_in") for _ in range(3)]
        plan.append((wang, choir, [r01_room], ahead_first, ahead_last, None, "approved"))
        sun = next((lia for lia in liaisons if lia.user.phone == "13800000008"), None)
        if sun is not None:
            plan.append(
                (
                    sun.user,
                    ("职工安全生产培训", 40, 120),
                    [v for v in sub.venues if v.name in ("多媒体教室", "社区学校教室")],
                    ahead_first,
                    ahead_last,
                    sun.organization,
                    "pending",
                )
            )
        # Outcomes by count, not by chance: the demo always shows each of them.
        past_outcomes = ["rejected"] * 2 + ["cancelled"] * 2 + ["no_show"] * 3 + ["in"] * 18
        future_outcomes = ["rejected", "cancelled"] + ["approved"] * 7 + ["pending"] * 6
        rng.shuffle(past_outcomes)
        rng.shuffle(future_outcomes)
        for index, outcome in enumerate(past_outcomes + future_outcomes):
            past = index < len(past_outcomes)
            first, last = (back, yesterday) if past else (ahead_first, ahead_last)
            if rng.random() < 0.3 and liaisons:
                liaison = rng.choice(liaisons)
                unit = liaison.organization
                plan.append(
                    (
                        liaison.user,
                        rng.choice(UNIT_PURPOSES),
                        venues_for(unit.site_id),
                        first,
                        last,
                        unit,
                        outcome,
                    )
                )
            else:
                person = rng.choice(residents)
                home = zone_of.get(person.home_site_id or 0)
                venues = venues_for(home.site.pk if home else None)
                plan.append((person, rng.choice(RESIDENT_PURPOSES), venues, first, last, None, outcome))
        for user, purpose, venues, first, last, unit, outcome in plan:
            if book(user, purpose, venues, first, last, unit=unit, outcome=outcome) is not None:
                made += 1
        for booking in sorted(no_shows, key=lambda b: b.starts_at):
            grace = booking_services.rules_for(booking.venue).no_show_grace_minutes
            booking_services.release_no_shows(now=booking.starts_at + dt.timedelta(minutes=grace + rng.randint(1, 10)))
        return made

    # -- back-dating ------------------------------------------------------------------------------------

    def backdate(self, specs: list[Spec], recaps: list[tuple[Recap, dt.datetime]]) -> None:
        """Move the wall-clock stamps of what the services made to when it would have happened.

        ``create_activity``, the workflow moves, ``hold_venue_for_activity`` and
        ``publish_recap`` take no clock; without this an activity of yesterday
        would read as published after its own sign-ups. Only these tables are
        touched; the ledger and the audit log are append-only and keep their
        load time.
        """
        by_id = {s.activity.pk: s for s in specs if s.activity is not None}
        activities = [s.activity for s in specs if s.activity is not None]
        for spec in specs:
            assert spec.activity is not None
            spec.activity.created_at = spec.created_at
            spec.activity.published_at = spec.published_at if spec.fate not in ("draft", "submitted") else None
        Activity.objects.bulk_update(activities, ["created_at", "published_at"], batch_size=500)

        def when(spec: Spec, status: str) -> dt.datetime | None:
            moments: dict[str, dt.datetime | None] = {
                ActivityStatus.DRAFT: spec.created_at,
                ActivityStatus.SUBMITTED: spec.submitted_at,
                ActivityStatus.PUBLISHED: spec.published_at,
                ActivityStatus.COMPLETED: spec.ends_at + dt.timedelta(minutes=10),
                ActivityStatus.CANCELLED: spec.cancelled_at,
            }
            return moments.get(status)

        changes = list(StatusChange.objects.filter(activity_id__in=by_id))
        for change in changes:
            at = when(by_id[change.activity_id], change.to_status)
            if at is not None:
                change.at = at
        StatusChange.objects.bulk_update(changes, ["at"], batch_size=1000)

        holds = list(Booking.objects.filter(activity_id__in=by_id))
        hold_specs = {}
        for hold in holds:
            assert hold.activity_id is not None
            spec = hold_specs[hold.pk] = by_id[hold.activity_id]
            hold.created_at = hold.decided_at = spec.published_at
        Booking.objects.bulk_update(holds, ["created_at", "decided_at"], batch_size=500)
        hold_changes = list(BookingChange.objects.filter(booking__in=holds))
        for hold_change in hold_changes:
            spec = hold_specs[hold_change.booking_id]
            at = spec.cancelled_at if hold_change.to_status == BookingStatus.CANCELLED else spec.published_at
            if at is not None:
                hold_change.at = at
        BookingChange.objects.bulk_update(hold_changes, ["at"], batch_size=1000)

        for recap, at in recaps:
            recap.published_at = at
        Recap.objects.bulk_update([r for r, _at in recaps], ["published_at"], batch_size=500)

    # -- all of it ----------------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.schedule()
        for spec in self.specs:
            self.make_turns(spec)
        recent = [s for s in self.specs if s.starts_at >= self.cutoff]
        self.mark_corrections([s for s in self.specs if self.now - CORRECTIONS_BACK <= s.starts_at < self.now])
        plans = self.write_plans()
        self.write_series()
        old = [s for s in self.specs if s.starts_at < self.cutoff]
        self.write_bulk(old)
        for spec in recent:
            if not spec.in_series:
                self.write_activity(spec)
            self.attend(spec)
        # What the background task (complete_ended) would have done, for these activities only.
        for spec in self.specs:
            activity = spec.activity
            if activity is not None and activity.status == ActivityStatus.PUBLISHED and spec.ends_at <= self.now:
                activity_services.complete_activity(actor=None, activity=activity, now=self.now)
        recaps = self.write_recaps(recent)
        corrections = self.write_corrections(self.specs)
        bookings = self.write_bookings()
        self.backdate([s for s in self.specs if s.in_series or s.starts_at >= self.cutoff], recaps)
        here = Q(activity__site__path__startswith=self.sites[SUBCENTRE].path)
        return {
            "年度计划": plans,
            "活动": Activity.objects.filter(site__path__startswith=self.sites[SUBCENTRE].path).count(),
            "活动报名": Signup.objects.filter(here).count(),
            "签到人次": Signup.objects.filter(here, checked_in_at__isnull=False).count(),
            "活动回顾": Recap.objects.filter(here).count(),
            "时长更正申请": corrections,
            "场地预约": bookings,
        }
