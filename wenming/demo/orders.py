"""Service orders and civility reports for the demo street (嘉禾路街道), the last three months.

``load_orders`` gives the street of ``street.py``:

- the service menu (服务菜单): 爱心理发, 心理辅导, 法律援助, 健康义诊, 家电维修, 助餐,
  陪诊, 代购, 卫生清洁, 助浴 and 智能手机教学, each with its description, the
  classifier's keywords, its group and audience, the demo volunteers' skills
  and teams that serve it, its time limits and extra questions; 陪诊 and 助浴
  are reviewed before dispatch. The civility categories (随手拍): 飞线充电,
  不文明养犬, 乱搭乱建, 垃圾分类, 其他不文明行为;
- dispatch rules: 嘉禾金融街党群服务站 opens every order for grabs, 梧桐市民驿站
  dispatches automatically to the recommender's first choice; every other
  station dispatches by hand;
- the Open311 client of the 12345 hotline, whose key is ``settings.DEMO_OPEN311_KEY``;
- about 230 service orders and 60 reports over the last ninety days, in
  every status, from residents, from staff ordering for a resident (代点单)
  and from the hotline: the older ones closed, rated (mostly 4–5 stars, a
  few low ones reviewed by the station), cancelled or turned down; the
  recent ones waiting for review, dispatch or a volunteer, with their
  deadlines running around now (a few minutes overdue, some already
  escalated to the sub-centre), accepted, in service, waiting for a rating
  or under review after a low one; reports persuaded, rectified, turned
  down, or not put right yet with a follow-up in the coming days.

How it writes
-------------
Through the services for a representative set (``place_order``, twice
without a type so that the classifier picks it, ``override_type``,
``approve_order``, ``reject_order``, ``cancel_order``, ``dispatch_order``,
``open_grab``, ``accept_order``, ``decline_order``, ``start_order``,
``complete_order``, ``rate_order``, ``review_complaint``, ``persuade_report``,
``mark_rectified``, ``mark_not_rectified``, the menu's ``save_service_type``
and ``save_question``, ``set_dispatch_rule``, ``issue_open311_key``), each
move made by the person who would make it. Most of them stamp the wall
clock; ``then`` moves each one back to when it would have happened (the
move's history row and the order's timestamps it set). The ledger entries
and audit rows ``complete_order`` writes keep the load time as when they
were recorded: they are append-only (as in ``activities.py``).

The rest is simulated (``_Story``) and bulk-written: every move checks the
transition table and sets the fields its service sets, and the clock's two
jobs run in between as they would (``escalate_overdue`` within five minutes
of a missed deadline, ``close_unrated`` within the hour after the rating
period), so every history runs from ``create`` to the current status. A
completed order has its servers and one ledger entry each (``source`` order,
``source_ref`` ``order:<id>``, hours no more than the time served), recorded
by the station's staff with its audit row. The reports' photos are six
drawn scenes stored once under ``orders/demo/`` and shared. Nothing is sent
(the people are invented): the loader runs under ``notices.services.muted``.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.models import AuditAction, AuditLog, Profile, Role, User
from wenming.activities.models import Audience
from wenming.core.errors import Invalid
from wenming.lib.geo import haversine_m
from wenming.network.models import Site, SiteKind, SiteLevel
from wenming.notices import services as notice_services
from wenming.orders import services
from wenming.orders.models import (
    AWAITING_ACCEPT,
    LOW_RATING,
    TRANSITIONS,
    Channel,
    Datatype,
    DispatchMode,
    Open311Client,
    Order,
    OrderEvent,
    OrderKind,
    OrderPhoto,
    OrderServer,
    OrderStatus,
    PhotoStage,
    Question,
    ServiceType,
)
from wenming.volunteers.models import ServiceRecord, ServiceSource, Skill, Team, TeamMembership, Volunteer

SUBCENTRE = "HP-JH"
HISTORY = dt.timedelta(days=90)
# The clock's jobs run every five minutes (escalation) and every hour (closing unrated orders).
ESCALATION_LAG = (60, 290)
CLOSING_LAG = (60, 3540)
ATTEMPTS = 40
CLIENT_NAME = "12345市民热线对接（演示）"

S = OrderStatus

# --- The menu -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """An extra question (an Open311 attribute)."""

    code: str
    prompt: str
    datatype: str
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    help_text: str = ""


@dataclass(frozen=True)
class Entry:
    """One service type or report category, and how the demo uses it."""

    code: str
    name: str
    group: str
    description: str
    keywords: tuple[str, ...]
    audience: str = Audience.ALL
    skills: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    accept_hours: int = 24
    finish_days: int = 3
    review: bool = False
    asks: tuple[Ask, ...] = ()
    minutes: tuple[int, int] = (45, 90)  # how long one service takes
    weight: int = 10  # how often it is asked for
    kind: str = OrderKind.SERVICE


MOBILITY = (("walk", "能自己走"), ("cane", "需要搀扶或拄拐"), ("wheelchair", "需要轮椅"))
BEES, YOUTH, SILVER, WOMEN, MEDICS, LAWYERS = (
    "嘉禾小蜜蜂志愿服务队",
    "青禾青年志愿服务队",
    "银发先锋志愿服务队",
    "巾帼暖心志愿服务队",
    "医志同行志愿服务队",
    "法律明白人志愿服务队",
)

MENU: tuple[Entry, ...] = (
    Entry(
        "haircut",
        "爱心理发",
        "生活服务",
        "为行动不便的老年人、残障人士上门理发；每月第一个周六上午，各站点也有爱心理发日。",
        ("理发", "剪头发", "剪发", "头发", "上门理发"),
        Audience.ELDERLY,
        skills=("理发",),
        teams=(BEES, WOMEN),
        finish_days=7,
        minutes=(30, 60),
        weight=14,
    ),
    Entry(
        "counselling",
        "心理辅导",
        "心理服务",
        "具备心理咨询资质的志愿者提供面谈或电话疏导，帮助缓解孤独、焦虑、失眠和家庭矛盾带来的压力。",
        ("心理", "情绪", "焦虑", "失眠", "抑郁", "心情", "孤独", "压力", "倾诉", "想不开"),
        skills=("心理咨询",),
        teams=(MEDICS,),
        finish_days=7,
        asks=(
            Ask(
                "mode",
                "辅导方式",
                Datatype.SINGLE,
                choices=(("visit", "上门面谈"), ("station", "到站点面谈"), ("phone", "电话疏导")),
            ),
        ),
        minutes=(45, 90),
        weight=6,
    ),
    Entry(
        "legal",
        "法律援助",
        "法律服务",
        "律师和“法律明白人”志愿者解答婚姻家庭、继承、劳动、租赁和邻里纠纷等法律问题，协助申请法律援助。",
        ("法律", "律师", "纠纷", "合同", "遗嘱", "继承", "离婚", "欠薪", "工资", "押金", "维权", "起诉"),
        skills=("法律",),
        teams=(LAWYERS,),
        finish_days=5,
        asks=(
            Ask(
                "matter",
                "咨询事项",
                Datatype.SINGLE,
                required=True,
                choices=(
                    ("family", "婚姻家庭"),
                    ("inherit", "继承与遗嘱"),
                    ("labour", "劳动与欠薪"),
                    ("housing", "房屋租赁"),
                    ("neighbour", "邻里纠纷"),
                    ("other", "其他"),
                ),
            ),
        ),
        minutes=(45, 120),
        weight=7,
    ),
    Entry(
        "clinic",
        "健康义诊",
        "健康服务",
        "社区医生和医护志愿者上门或在站点量血压、测血糖，提供健康咨询和用药指导。",
        ("血压", "血糖", "体检", "义诊", "医生", "头晕", "健康", "用药"),
        Audience.ELDERLY,
        skills=("医疗", "护理"),
        teams=(MEDICS,),
        finish_days=7,
        minutes=(30, 60),
        weight=9,
    ),
    Entry(
        "repair",
        "家电维修",
        "生活服务",
        "志愿者上门检修洗衣机、电视机、冰箱、空调、热水器等家用电器，需更换的配件按实收取。",
        ("家电", "洗衣机", "冰箱", "电视", "空调", "热水器", "电饭煲", "微波炉", "维修", "修理", "坏了", "坏"),
        skills=("家电维修",),
        accept_hours=12,
        finish_days=3,
        asks=(
            Ask(
                "appliance",
                "电器类型",
                Datatype.SINGLE,
                required=True,
                choices=(
                    ("washer", "洗衣机"),
                    ("fridge", "冰箱"),
                    ("tv", "电视机"),
                    ("ac", "空调"),
                    ("heater", "热水器"),
                    ("small", "小家电"),
                    ("other", "其他"),
                ),
            ),
        ),
        minutes=(45, 150),
        weight=16,
    ),
    Entry(
        "meals",
        "助餐",
        "生活服务",
        "长者食堂为高龄、独居、行动不便的老人配送午餐或晚餐，志愿者送餐上门。",
        ("送餐", "吃饭", "午饭", "午餐", "晚饭", "晚餐", "饭菜", "长者食堂", "助餐", "订餐"),
        Audience.ELDERLY,
        skills=("助餐",),
        teams=(WOMEN,),
        accept_hours=8,
        finish_days=1,
        asks=(
            Ask("portions", "份数", Datatype.NUMBER, required=True, help_text="每份一荤两素一汤"),
            Ask("meal", "用餐时段", Datatype.SINGLE, required=True, choices=(("lunch", "午餐"), ("dinner", "晚餐"))),
        ),
        minutes=(15, 30),
        weight=12,
    ),
    Entry(
        "escort",
        "陪诊",
        "健康服务",
        "志愿者陪同老人到医院挂号、就诊、检查、取药，全程协助；需提前一天预约，站点审核后派单。",
        ("医院", "看病", "陪同", "复查", "挂号", "取药", "配药", "就医", "门诊", "陪诊"),
        Audience.ELDERLY,
        skills=("陪诊", "护理"),
        teams=(MEDICS,),
        accept_hours=12,
        finish_days=3,
        review=True,
        asks=(
            Ask(
                "hospital",
                "就诊医院",
                Datatype.STRING,
                required=True,
                help_text="医院名称和科室，如：和平区中心医院 心内科",
            ),
            Ask("mobility", "行动情况", Datatype.SINGLE, choices=MOBILITY),
        ),
        minutes=(150, 300),
        weight=9,
    ),
    Entry(
        "shopping",
        "代购",
        "生活服务",
        "为独居、高龄老人代买蔬菜、米面油和日用品，凭小票结算。",
        ("买菜", "代买", "代购", "买东西", "超市", "日用品", "大米", "米面油"),
        Audience.ELDERLY,
        teams=(BEES, WOMEN),
        accept_hours=12,
        finish_days=1,
        asks=(Ask("items", "购物清单", Datatype.TEXT, required=True),),
        minutes=(45, 90),
        weight=8,
    ),
    Entry(
        "cleaning",
        "卫生清洁",
        "生活服务",
        "为独居、高龄老人打扫居室、擦窗、清理油烟、整理杂物。",
        ("打扫", "清洁", "卫生", "保洁", "擦窗", "大扫除", "整理", "收拾", "油烟"),
        Audience.ELDERLY,
        skills=("保洁",),
        teams=(BEES,),
        finish_days=3,
        minutes=(90, 180),
        weight=9,
    ),
    Entry(
        "bathing",
        "助浴",
        "生活服务",
        "护理志愿者为失能、半失能老人上门助浴；首次服务前由站点评估身体状况。",
        ("洗澡", "助浴", "擦身", "洗头"),
        Audience.DISABLED,
        skills=("护理",),
        teams=(WOMEN,),
        finish_days=3,
        review=True,
        asks=(Ask("mobility", "行动情况", Datatype.SINGLE, required=True, choices=MOBILITY),),
        minutes=(60, 90),
        weight=4,
    ),
    Entry(
        "phone",
        "智能手机教学",
        "生活服务",
        "青年志愿者一对一教老人用智能手机：微信视频、扫码支付、网上挂号、手机打车。",
        ("手机", "智能手机", "微信", "视频", "扫码", "支付", "网上挂号", "打车", "网购"),
        Audience.ELDERLY,
        skills=("计算机",),
        teams=(YOUTH,),
        accept_hours=48,
        finish_days=7,
        asks=(
            Ask(
                "topics",
                "想学的内容",
                Datatype.MULTI,
                choices=(
                    ("wechat", "微信聊天和视频"),
                    ("pay", "扫码支付"),
                    ("hospital", "网上挂号"),
                    ("taxi", "手机打车"),
                    ("shopping", "网上买菜"),
                ),
            ),
        ),
        minutes=(45, 90),
        weight=6,
    ),
)

REPORT_GROUP = "文明随手拍"
REPORTS: tuple[Entry, ...] = (
    Entry(
        "wires",
        "飞线充电",
        REPORT_GROUP,
        "从楼上窗口、楼道私拉电线给电动自行车充电，存在火灾隐患。",
        ("飞线", "充电", "电瓶车", "电动车", "拉电线", "插线板"),
        weight=14,
        kind=OrderKind.REPORT,
    ),
    Entry(
        "dogs",
        "不文明养犬",
        REPORT_GROUP,
        "遛狗不牵绳、不清理犬只粪便、犬只扰民等。",
        ("狗", "遛狗", "牵绳", "狗屎", "犬", "宠物", "狗叫"),
        weight=12,
        kind=OrderKind.REPORT,
    ),
    Entry(
        "shacks",
        "乱搭乱建",
        REPORT_GROUP,
        "私自搭建棚屋、加盖房屋、占用公共通道和绿地。",
        ("违建", "搭建", "棚子", "加盖", "占用", "围墙"),
        weight=8,
        kind=OrderKind.REPORT,
    ),
    Entry(
        "sorting",
        "垃圾分类",
        REPORT_GROUP,
        "垃圾混投、乱扔，装修垃圾和大件垃圾乱堆放。",
        ("垃圾", "分类", "乱扔", "混投", "垃圾桶", "装修垃圾"),
        weight=12,
        kind=OrderKind.REPORT,
    ),
    Entry(
        "other",
        "其他不文明行为",
        REPORT_GROUP,
        "高空抛物、乱贴小广告、占用消防通道等其他不文明行为。",
        ("高空抛物", "乱停车", "消防通道", "占道", "噪音", "小广告", "乱贴"),
        weight=8,
        kind=OrderKind.REPORT,
    ),
)

# --- What people write -----------------------------------------------------------------

# (description, answers) by service code.
REQUESTS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "haircut": (
        ("老伴腿脚不方便，下不了楼，想请志愿者上门帮他理个发。", {}),
        ("头发太长了，想剪短一点，最好周末上午来家里。", {}),
        ("家里老人卧床，需要上门理发，谢谢。", {}),
        ("想给九十岁的母亲剪剪头发，她坐轮椅出门不便。", {}),
    ),
    "counselling": (
        ("老伴去年走了以后一直睡不好，心里闷得慌，想找人聊聊。", {"mode": "visit"}),
        ("孩子在外地工作，一个人在家总是胡思乱想，晚上失眠。", {"mode": "phone"}),
        ("最近和儿媳关系紧张，心情很差，想请心理老师疏导一下。", {"mode": "station"}),
        ("刚退休不太适应，情绪低落，想找心理志愿者聊一聊。", {"mode": "station"}),
    ),
    "legal": (
        ("房东不肯退押金，合同上写得不清楚，想咨询一下怎么办。", {"matter": "housing"}),
        ("想立一份遗嘱，不知道需要哪些手续。", {"matter": "inherit"}),
        ("儿子在工地干活被拖欠了三个月工资，想问问怎么维权。", {"matter": "labour"}),
        ("楼上漏水把我家天花板泡坏了，协商不成，想请法律志愿者帮忙。", {"matter": "neighbour"}),
        ("老两口想咨询一下房产过户给子女的问题。", {"matter": "family"}),
    ),
    "clinic": (
        ("最近老是头晕，想请医生上门量量血压。", {}),
        ("糖尿病好几年了，想测一下血糖，顺便问问用药。", {}),
        ("老人刚出院，想请医护志愿者上门看看恢复情况。", {}),
        ("血压忽高忽低，想请社区医生做个健康评估。", {}),
    ),
    "repair": (
        ("家里洗衣机不转了，一直报错，请师傅上门看看。", {"appliance": "washer"}),
        ("冰箱不制冷了，里面的菜都要坏了。", {"appliance": "fridge"}),
        ("电视机打开没有图像只有声音。", {"appliance": "tv"}),
        ("空调开了不出冷风，想请人检修一下。", {"appliance": "ac"}),
        ("热水器打不着火，没有热水用。", {"appliance": "heater"}),
        ("电饭煲插上电没反应，想请人修一修。", {"appliance": "small"}),
    ),
    "meals": (
        ("腿脚不便，想订长者食堂的午饭送到家。", {"portions": "1", "meal": "lunch"}),
        ("老两口想订两份午餐，少油少盐。", {"portions": "2", "meal": "lunch"}),
        ("这几天保姆请假了，想订晚饭送上门。", {"portions": "1", "meal": "dinner"}),
    ),
    "escort": (
        ("下周要去医院复查，子女都上班，想请志愿者陪同。", {"hospital": "和平区中心医院 心内科", "mobility": "cane"}),
        (
            "要去医院配药做检查，一个人看不懂流程，想找人陪一下。",
            {"hospital": "嘉禾路街道社区卫生服务中心", "mobility": "walk"},
        ),
        (
            "母亲坐轮椅，要去眼科复诊，需要有人推轮椅陪同。",
            {"hospital": "市第一人民医院 眼科", "mobility": "wheelchair"},
        ),
        ("做完手术需要定期换药，想请志愿者陪同就医。", {"hospital": "和平区中心医院 普外科", "mobility": "cane"}),
    ),
    "shopping": (
        ("下雨天不方便出门，想请人帮忙买点菜。", {"items": "青菜一把、鸡蛋一盒、豆腐两块"}),
        ("家里米和油吃完了，搬不动，请志愿者代买。", {"items": "大米10斤、食用油一桶"}),
        ("想请人帮忙去药店买降压药和创可贴。", {"items": "降压药两盒（带上药盒）、创可贴一盒"}),
        ("需要买些卫生纸、洗衣液等日用品。", {"items": "卫生纸一提、洗衣液一瓶、垃圾袋两卷"}),
    ),
    "cleaning": (
        ("快过年了，想请志愿者帮忙大扫除，擦擦窗户。", {}),
        ("一个人住，厨房油烟很重，自己清理不动。", {}),
        ("家里东西堆得太多，想请人帮忙整理收拾一下。", {}),
        ("卫生间瓷砖发霉了，想请人帮忙打扫。", {}),
    ),
    "bathing": (
        ("老伴中风后行动不便，想请人上门帮忙洗澡。", {"mobility": "wheelchair"}),
        ("母亲九十多岁了，自己洗澡怕摔倒，想请助浴服务。", {"mobility": "cane"}),
        ("天冷了老人好久没洗澡，想预约上门助浴。", {"mobility": "cane"}),
    ),
    "phone": (
        ("想学用微信和外地的孙子视频聊天。", {"topics": ["wechat"]}),
        ("去医院总要扫码挂号，想学一下网上挂号。", {"topics": ["hospital", "pay"]}),
        ("想学手机买菜和扫码付款。", {"topics": ["shopping", "pay"]}),
        ("新买了智能手机，什么都不会用，想找人教教。", {"topics": ["wechat", "pay", "taxi"]}),
    ),
}

COMPLETION_NOTES: dict[str, tuple[str, ...]] = {
    "haircut": ("上门理发一次，理完清扫了地面。", "为老人修剪头发和胡须，老人很满意。"),
    "counselling": ("面谈一小时，老人情绪平稳，约定两周后回访。", "电话疏导，建议多参加站点的老年活动。"),
    "legal": ("解答了相关法律问题，提供了书面材料清单。", "协助起草了协商函，告知法律援助申请渠道。"),
    "clinic": ("测量血压、血糖，结果已告知，提醒按时服药。", "上门健康评估，建议到社区卫生服务中心复诊。"),
    "repair": (
        "更换了损坏的配件，试机正常。",
        "检查后清理了线路接头，电器恢复正常。",
        "故障较大，已建议联系厂家售后。",
    ),
    "meals": ("午餐已按时送到，老人当面签收。", "晚餐已送达，提醒老人趁热吃。"),
    "escort": ("全程陪同挂号、就诊、取药，已送老人回家。", "陪同检查，报告已交给家属。"),
    "shopping": ("已按清单代购，小票和找零当面交给老人。",),
    "cleaning": ("打扫了厨房和卫生间，擦了窗户。", "帮老人整理了杂物，清理出两袋可回收物。"),
    "bathing": ("两名志愿者协助完成助浴，老人状态良好。",),
    "phone": ("教会了微信视频通话和扫码支付。", "演示了网上挂号流程，老人已能独立操作。"),
}

GOOD_COMMENTS = (
    "志愿者很耐心，谢谢！",
    "服务很周到，准时上门。",
    "非常满意，为你们点赞。",
    "手艺不错，态度也好。",
    "解决了大问题，感谢实践站。",
    "下次还找你们。",
)
FAIR_COMMENTS = ("服务还可以，就是来得有点晚。", "基本解决了，希望下次能快一些。")
LOW_COMMENTS = (
    "约好上午来，结果下午才到，也没提前打电话。",
    "修完第二天又坏了。",
    "等了好几天才有人联系。",
    "服务态度一般，有点不耐烦。",
)
REVIEW_NOTES = (
    "已电话回访，志愿者当面致歉并约定再次上门，居民表示理解。",
    "经核实系志愿者路上堵车迟到，已提醒今后提前告知上门时间。",
    "已安排另一位志愿者重新上门处理，问题已解决，居民认可。",
)
CANCEL_REASONS = (
    "家里人已经帮忙解决了。",
    "时间安排不开，改天再约。",
    "已经自己找人弄好了。",
    "老人住院了，暂时不需要。",
)
STAFF_CANCEL_REASONS = ("居民电话告知不再需要。",)
REVIEW_REJECTIONS: dict[str, tuple[str, ...]] = {
    "escort": (
        "所约时间医院停诊，已电话联系居民改约后重新点单。",
        "病情需要专业医护陪护，已转介社区卫生服务中心。",
    ),
    "bathing": ("助浴需先由社区医生评估身体状况，已电话联系家属，评估后再安排。",),
}
PENDING_REJECTIONS = ("重复点单，已与居民确认合并处理。", "该需求属于物业维修范围，已转物业公司处理。")
DECLINE_REASONS = ("这几天在外地，无法上门。", "时间冲突，当天要照顾孙子。", "不擅长这类问题，建议派给其他志愿者。")
RELEASE_REASONS = ("临时有事，无法按约定时间上门，抱歉。",)
DISPATCH_NOTES = ("请提前电话联系老人。", "老人耳背，敲门请大声一些。", "", "", "", "")
APPROVE_NOTES = ("已电话核实需求。", "", "")

# Reports: (description with {where}), what staff said, what they found on the follow-up.
REPORT_TEXTS: dict[str, tuple[str, ...]] = {
    "wires": (
        "{where}有人从楼上窗户拉电线下来给电瓶车充电，晚上一直插着，太危险了。",
        "{where}楼道里接了插线板给电动车充电，堵住了通道。",
        "{where}一楼住户从家里拉出电线，横穿过道给电动车充电。",
    ),
    "dogs": (
        "{where}有人遛狗不牵绳，小孩被吓哭了。",
        "{where}经常有狗粪没人清理。",
        "{where}有住户家里的狗半夜一直叫，影响休息。",
    ),
    "shacks": (
        "{where}有住户在楼下绿化带里私自搭了个棚子堆杂物。",
        "{where}顶楼有人在加盖彩钢板房。",
        "{where}一楼住户把院墙往外扩，占了公共通道。",
    ),
    "sorting": (
        "{where}垃圾箱房旁边堆了好多装修垃圾。",
        "{where}有人把湿垃圾连袋扔进干垃圾桶。",
        "{where}垃圾桶满了溢出来，气味很大。",
    ),
    "other": (
        "{where}有人从楼上往下扔烟头。",
        "{where}墙上和电线杆上贴满了小广告。",
        "{where}有车辆长期占用消防通道。",
    ),
}
PERSUASIONS: dict[str, tuple[str, ...]] = {
    "wires": (
        "已会同物业上门劝导，车主承诺改到小区集中充电桩充电。",
        "已在楼道张贴安全提示，并当面告知飞线充电的火灾风险。",
    ),
    "dogs": ("已找到犬主宣传文明养犬规定，发放了拾便袋和牵引绳。", "已联系犬主，告知须牵绳出门并及时清理粪便。"),
    "shacks": ("已会同城管、物业上门告知，要求限期自行拆除。",),
    "sorting": ("已安排垃圾分类指导员在投放时段桶边值守、现场指导。", "已联系装修户，要求装修垃圾袋装后预约清运。"),
    "other": ("已在楼组微信群发倡议并上门提醒。", "已联系物业加强巡查，并张贴文明提示。"),
}
RECTIFICATIONS: dict[str, tuple[str, ...]] = {
    "wires": ("复查时飞线已拆除，电动车停入非机动车棚充电。",),
    "dogs": ("回访发现犬主遛狗已牵绳并随手清理。",),
    "shacks": ("违章搭建已拆除，现场已恢复。",),
    "sorting": ("装修垃圾已清运，箱房周边已清扫干净。", "指导后混投现象明显减少。"),
    "other": ("小广告已清除，物业已加强巡查。", "消防通道已清空，车主已将车移走。"),
}
NOT_RECTIFIED = ("复查时仍未整改，已再次当面劝导。", "当事人表示需要几天时间处理，约定复查。")
REPORT_REJECTIONS = ("经现场核实，未发现所述情况。", "该处属于小区规划的临时堆放点，不属于违规。")
SPOTS = ("楼道", "北侧非机动车棚旁", "单元门口", "中心绿地", "地下车库入口", "东门岗亭旁")

# Who acts when, in Shanghai minutes of the day; the clock and the hotline keep no hours.
WORK_HOURS: dict[str, tuple[int, int]] = {
    "staff": (8 * 60 + 30, 18 * 60),
    "volunteer": (7 * 60 + 30, 21 * 60),
    "resident": (7 * 60, 21 * 60 + 30),
}

# Service orders by the status they end in (besides those made through the services), and where
# their story starts: minutes before now, (latest, earliest).
SERVICE_TARGETS: tuple[tuple[str, int, tuple[int, int]], ...] = (
    (S.CLOSED, 125, (3 * 1440, 90 * 1440)),
    (S.COMPLETED, 12, (20 * 60, 8 * 1440)),
    (S.COMPLAINT, 4, (24 * 60, 6 * 1440)),
    (S.CANCELLED, 14, (2 * 60, 90 * 1440)),
    (S.REJECTED, 8, (2 * 60, 90 * 1440)),
    (S.REVIEWING, 5, (15, 10 * 60)),
    (S.PENDING, 10, (5, 0)),  # 0: the type's accept window and a half
    (S.DISPATCHED, 12, (20, 0)),
    (S.GRABBING, 7, (20, 0)),
    (S.ACCEPTED, 12, (2 * 60, 2 * 1440)),
    (S.IN_SERVICE, 7, (2 * 60, 3 * 1440)),
)
REPORT_TARGETS: tuple[tuple[str, int, tuple[int, int]], ...] = (
    (S.RECTIFIED, 25, (3 * 1440, 90 * 1440)),
    (S.PERSUADED, 8, (3 * 60, 6 * 1440)),
    (S.UNRECTIFIED, 7, (2 * 1440, 12 * 1440)),
    (S.REPORTED, 8, (10, 3 * 1440)),
    (S.REJECTED, 5, (6 * 60, 60 * 1440)),
)
# Completed orders rated: 5, 4 and 3 stars in these shares; the rest closed unrated or after a low rating.
STARS = (5,) * 62 + (4,) * 30 + (3,) * 8

STAMPS = (
    "updated_at",
    "accept_by",
    "finish_by",
    "dispatched_at",
    "accepted_at",
    "started_at",
    "completed_at",
    "rated_at",
    "closed_at",
)


def load_orders(
    sites: Mapping[str, Site],
    staff: Mapping[str, User],
    volunteers: Sequence[Volunteer],
    *,
    rng: random.Random,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Give the demo street its service menu, orders and reports; the counts made.

    ``sites`` by code, ``staff`` by phone and ``volunteers`` as ``street.py`` made them. Deterministic
    for a seeded ``rng`` and a given ``now`` (the services draw tokens and photo names of their own).
    """
    with notice_services.muted():
        return _Loader(sites, staff, volunteers, rng=rng, now=now).run()


class _Retry(Exception):
    """This story cannot end where it was meant to; draw another."""


def _minute(value: dt.datetime) -> dt.datetime:
    return value.replace(second=0, microsecond=0)


def _offset(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    rad = math.radians(bearing_deg)
    dlat = distance_m * math.cos(rad) / 111_320
    dlng = distance_m * math.sin(rad) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lng + dlng, 6)


def _area(site: Site) -> str:
    """和乐居民区新时代文明实践站 → 和乐小区; an area station by its own name."""
    if site.kind == SiteKind.RESIDENTIAL:
        return site.name.removesuffix("新时代文明实践站").removesuffix("居民区") + "小区"
    return f"{site.name}周边"


@dataclass
class _Story:
    """One order as it is simulated: the row, its history, who served, its photos."""

    order: Order
    entry: Entry
    events: list[OrderEvent] = field(default_factory=list)
    servers: list[tuple[Volunteer, Decimal]] = field(default_factory=list)
    recorder: User | None = None
    photos: list[tuple[str, str, User | None, dt.datetime]] = field(default_factory=list)
    refusers: set[int] = field(default_factory=set)
    lag: int = 120  # seconds after a deadline the clock sees it

    @property
    def last(self) -> dt.datetime:
        return self.events[-1].at


class _Loader:
    def __init__(
        self,
        sites: Mapping[str, Site],
        staff: Mapping[str, User],
        volunteers: Sequence[Volunteer],
        *,
        rng: random.Random,
        now: dt.datetime | None,
    ) -> None:
        self.rng = rng
        self.now = _minute(now or timezone.now())
        self.today = timezone.localdate(self.now)
        self.sites = sites
        self.sub = sites[SUBCENTRE]
        self.by_pk = {s.pk: s for s in sites.values()}
        self.stations = [s for s in sites.values() if s.level == SiteLevel.STATION and s.is_active]
        self.admin = staff["13800000000"]
        self.sub_admin = staff["13800000001"]
        self.wang = staff["13800000006"]
        self.liu = staff["13800000007"]
        self.volunteers = [v for v in volunteers if v.is_active]
        self.by_user = {v.user_id: v for v in self.volunteers}
        self.chen = self.by_user[staff["13800000005"].pk]
        ids = [v.pk for v in self.volunteers]
        self.skills_of: dict[int, set[int]] = defaultdict(set)
        for vid, sid in Volunteer.skills.through.objects.filter(volunteer_id__in=ids).values_list(
            "volunteer_id", "skill_id"
        ):
            self.skills_of[vid].add(sid)
        self.teams = {t.name: t for t in Team.objects.filter(site__path__startswith=self.sub.path)}
        self.members: dict[int, list[Volunteer]] = defaultdict(list)
        self.leaders: dict[int, Volunteer] = {}
        self.teams_of: dict[int, set[int]] = defaultdict(set)
        by_pk = {v.pk: v for v in self.volunteers}
        for team_id, vid, leader in TeamMembership.objects.filter(team__in=self.teams.values()).values_list(
            "team_id", "volunteer_id", "is_leader"
        ):
            if vid in by_pk:
                self.members[team_id].append(by_pk[vid])
                self.teams_of[vid].add(team_id)
                if leader:
                    self.leaders[team_id] = by_pk[vid]
        residents = list(
            User.objects.filter(role_grants__role=Role.RESIDENT, role_grants__site__in=self.stations)
            .distinct()
            .order_by("pk")
        )
        self.residents = [u for u in residents if u.home_site_id in self.by_pk]
        self.by_home: dict[int, list[User]] = defaultdict(list)
        for user in self.residents:
            self.by_home[user.home_site_id or 0].append(user)
        self.addresses = dict(
            Profile.objects.filter(user__in=[*self.residents, *(v.user for v in self.volunteers)]).values_list(
                "user_id", "address"
            )
        )
        self.types: dict[str, ServiceType] = {}
        self.entries: dict[int, Entry] = {}
        self.rules: dict[int, tuple[str, int]] = {}
        self.qualified_cache: dict[tuple[int, int], list[Volunteer]] = {}
        self.pictures: dict[str, str] = {}
        self.client: Open311Client | None = None
        self.skill_ids: dict[str, int] = dict(Skill.objects.values_list("name", "id"))
        areas = [s for s in self.stations if s.kind != SiteKind.RESIDENTIAL]
        # Each residential station's neighbourhood: its nearest area station.
        self.zone = {
            s.pk: min(
                areas, key=lambda a: haversine_m(s.latitude or 0, s.longitude or 0, a.latitude or 0, a.longitude or 0)
            )
            for s in self.stations
            if s.kind == SiteKind.RESIDENTIAL
        }
        self.made: list[Order] = []

    # -- the menu, the rules, the hotline ----------------------------------------------------

    def build_menu(self) -> None:
        skills = {s.name: s for s in Skill.objects.filter(name__in={n for e in MENU for n in e.skills})}
        for position, entry in enumerate((*MENU, *REPORTS), start=1):
            service_type = services.save_service_type(
                actor=self.admin,
                service_type=ServiceType(
                    code=entry.code,
                    kind=entry.kind,
                    name=entry.name,
                    description=entry.description,
                    group=entry.group,
                    keywords=list(entry.keywords),
                    audience=entry.audience,
                    accept_within_hours=entry.accept_hours,
                    finish_within_days=entry.finish_days,
                    needs_review=entry.review,
                    position=position,
                ),
                changes={},
            )
            service_type.skills.set([skills[n] for n in entry.skills if n in skills])
            service_type.teams.set([self.teams[n] for n in entry.teams if n in self.teams])
            for index, ask in enumerate(entry.asks, start=1):
                services.save_question(
                    actor=self.admin,
                    question=Question(
                        service_type=service_type,
                        code=ask.code,
                        prompt=ask.prompt,
                        datatype=ask.datatype,
                        required=ask.required,
                        choices=[{"key": k, "name": n} for k, n in ask.choices],
                        help_text=ask.help_text,
                        position=index,
                    ),
                )
            self.types[entry.code] = service_type
            self.entries[service_type.pk] = entry
        # The menu was drawn up before the first of these orders came in.
        ServiceType.objects.filter(pk__in=[t.pk for t in self.types.values()]).update(
            updated_at=self.now - HISTORY - dt.timedelta(days=30)
        )

    def build_rules(self) -> None:
        grab, auto = self.sites[f"{SUBCENTRE}-Q7"], self.sites[f"{SUBCENTRE}-Q2"]
        for site, mode, days in ((grab, DispatchMode.GRAB, 5), (auto, DispatchMode.AUTO, 7)):
            services.set_dispatch_rule(
                actor=site.manager or self.sub_admin, site=site, mode=mode, rate_within_days=days
            )
            self.rules[site.pk] = (mode, days)

    def build_client(self) -> Open311Client:
        client = Open311Client(name=CLIENT_NAME, site=self.sub, contact="和平区12345市民服务热线（演示）")
        services.issue_open311_key(actor=None, client=client, key=settings.DEMO_OPEN311_KEY)
        Open311Client.objects.filter(pk=client.pk).update(created_at=self.now - HISTORY - dt.timedelta(days=20))
        self.client = client
        return client

    def build_pictures(self) -> None:
        """The shared demo photos, stored once (a second load into the same media finds them)."""
        for code in (*(e.code for e in REPORTS), "done"):
            name = f"orders/demo/{code}.jpg"
            if not default_storage.exists(name):
                name = default_storage.save(name, ContentFile(_picture(code)))
            self.pictures[code] = name

    # -- who, where ------------------------------------------------------------------------

    def rule(self, site: Site) -> tuple[str, int]:
        """``services.rule_for`` without the query: the nearest rule up the tree."""
        for site_id in reversed([*site.ancestor_ids, site.pk]):
            if site_id in self.rules:
                return self.rules[site_id]
        return DispatchMode.MANUAL, 7

    def nearest(self, lat: float, lng: float) -> Site:
        """``services.find_station`` for a point of the street: the nearest station."""
        return min(self.stations, key=lambda s: (haversine_m(lat, lng, s.latitude or 0, s.longitude or 0), s.pk))

    def responsible(self, order: Order) -> Site:
        return self.by_pk[order.escalated_to_id] if order.escalated_to_id else self.by_pk[order.site_id]

    def staff_for(self, order: Order) -> User:
        """Who acts for the station: its manager, or the sub-centre admin (also once it went up to her)."""
        site = self.by_pk[order.site_id]
        if site.manager_id is None or (order.escalated_to_id and self.rng.random() < 0.6):
            return self.sub_admin
        manager = site.manager
        assert manager is not None
        return manager

    def qualifies(self, volunteer: Volunteer, entry: Entry) -> bool:
        skills = {self.skill_ids[n] for n in entry.skills if n in self.skill_ids}
        teams = {self.teams[n].pk for n in entry.teams if n in self.teams}
        if not skills and not teams:
            return True
        return bool(self.skills_of[volunteer.pk] & skills or self.teams_of[volunteer.pk] & teams)

    def qualified(self, s: _Story) -> list[Volunteer]:
        """``policies.qualified_volunteers`` less those who refused this order (as the recommender does)."""
        root = self.responsible(s.order)
        key = (root.pk, s.order.service_type_id)
        if key not in self.qualified_cache:
            self.qualified_cache[key] = [
                v
                for v in self.volunteers
                if self.by_pk[v.site_id].path.startswith(root.path) and self.qualifies(v, s.entry)
            ]
        return [v for v in self.qualified_cache[key] if v.pk not in s.refusers]

    def local(self, volunteer: Volunteer, order: Order) -> bool:
        """Registered in the responsible site's subtree: whom the station may dispatch to and record as serving."""
        return self.by_pk[volunteer.site_id].path.startswith(self.responsible(order).path)

    def local_members(self, team_id: int, order: Order) -> list[Volunteer]:
        return [v for v in self.members[team_id] if self.local(v, order)]

    def dispatch_teams(self, s: _Story) -> list[Team]:
        """The type's teams of the responsible site's subtree, with someone there who can serve."""
        root = self.responsible(s.order)
        return [
            self.teams[n]
            for n in s.entry.teams
            if n in self.teams
            and self.by_pk[self.teams[n].site_id].path.startswith(root.path)
            and self.local_members(self.teams[n].pk, s.order)
        ]

    def later(self, at: dt.datetime, low: int, high: int, who: str = "") -> dt.datetime:
        """Some minutes after ``at``, moved into ``who``'s working hours unless that passes now."""
        moment = _minute(at + dt.timedelta(minutes=self.rng.randint(low, high)))
        if moment <= at:
            moment = _minute(at) + dt.timedelta(minutes=1)
        return self.awake(moment, who)

    def awake(self, moment: dt.datetime, who: str) -> dt.datetime:
        if who not in WORK_HOURS:
            return moment
        start, end = WORK_HOURS[who]
        local = timezone.localtime(moment)
        minutes = local.hour * 60 + local.minute
        if start <= minutes < end:
            return moment
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if minutes >= end:
            day += dt.timedelta(days=1)
        moved = day + dt.timedelta(minutes=start + self.rng.randint(0, 50))
        return moment if moved > self.now else moved

    # -- the moves, as the services make them ----------------------------------------------------

    def move(
        self,
        s: _Story,
        to: str,
        action: str,
        at: dt.datetime,
        *,
        actor: User | None = None,
        label: str = "",
        volunteer: Volunteer | None = None,
        team: Team | None = None,
        note: str = "",
        clock: bool = True,
        **changes: Any,
    ) -> None:
        o = s.order
        if clock:
            self.clock(s, at)
        if TRANSITIONS.get((o.kind, o.status, to)) != action or at < s.last:
            raise _Retry
        note = note[: services.NOTE_MAX]
        if note and "status_note" not in changes:
            changes["status_note"] = note
        s.events.append(
            OrderEvent(
                order=o,
                action=action,
                from_status=o.status,
                to_status=to,
                actor=actor,
                actor_label=label,
                volunteer=volunteer,
                team=team,
                note=note,
                at=at,
            )
        )
        o.status = to
        o.revision += 1
        o.updated_at = at
        for key, value in changes.items():
            setattr(o, key, value)

    def clock(self, s: _Story, until: dt.datetime) -> None:
        """What ``escalate_overdue`` and ``close_unrated`` would have done to this order by ``until``."""
        o = s.order
        while o.status in AWAITING_ACCEPT and o.accept_by is not None:
            at = o.accept_by + dt.timedelta(seconds=s.lag)
            if at > until:
                break
            current = self.responsible(o)
            parent = self.by_pk.get(current.parent_id or 0)
            if parent is not None:
                o.escalated_to = parent
                o.escalations += 1
                o.accept_by = at + dt.timedelta(hours=s.entry.accept_hours)
                note = _("超过接单时限未接单，已上报%(site)s") % {"site": parent.name}
            else:
                o.accept_by = None
                note = _("超过接单时限未接单，已无上级可上报")
            s.events.append(
                OrderEvent(
                    order=o,
                    action="escalate",
                    from_status=o.status,
                    to_status=o.status,
                    actor_label=_("系统"),
                    note=note,
                    at=at,
                )
            )
            o.revision += 1
            o.updated_at = at
            s.lag = self.rng.randint(*ESCALATION_LAG)
        if o.status == S.COMPLETED and o.completed_at is not None:
            days = self.rule(self.by_pk[o.site_id])[1]
            at = o.completed_at + dt.timedelta(days=days, seconds=self.rng.randint(*CLOSING_LAG))
            if at <= until:
                self.move(
                    s,
                    S.CLOSED,
                    "rate",
                    at,
                    label=_("系统"),
                    note=_("%(days)d天内未评价，自动办结") % {"days": days},
                    clock=False,
                    closed_at=at,
                )

    def pending_rule(self, s: _Story, at: dt.datetime) -> None:
        """``services._apply_rule``: an open grab or an automatic dispatch, right as the order is ready."""
        mode = self.rule(self.by_pk[s.order.site_id])[0]
        if mode == DispatchMode.GRAB:
            self.open_grab(s, at, actor=None, label=_("系统"))
        elif mode == DispatchMode.AUTO:
            candidates = self.qualified(s)
            if candidates:
                self.dispatch(s, at, volunteer=self.rng.choice(candidates[:4]), actor=None, label=_("系统自动派单"))

    def approve(self, s: _Story, at: dt.datetime) -> None:
        self.move(
            s,
            S.PENDING,
            "approve",
            at,
            actor=self.staff_for(s.order),
            note=self.rng.choice(APPROVE_NOTES),
            accept_by=at + dt.timedelta(hours=s.entry.accept_hours),
        )
        self.pending_rule(s, at)

    def reject(self, s: _Story, at: dt.datetime, reason: str) -> None:
        self.move(s, S.REJECTED, "reject", at, actor=self.staff_for(s.order), note=reason, closed_at=at, accept_by=None)

    def cancel(self, s: _Story, at: dt.datetime) -> None:
        o = s.order
        if o.requester is not None and o.channel == Channel.SELF:
            actor, reason = o.requester, self.rng.choice(CANCEL_REASONS)
        else:
            actor, reason = self.staff_for(o), self.rng.choice(STAFF_CANCEL_REASONS)
        self.move(s, S.CANCELLED, "cancel", at, actor=actor, note=reason, closed_at=at, accept_by=None)

    def dispatch(
        self,
        s: _Story,
        at: dt.datetime,
        *,
        volunteer: Volunteer | None = None,
        team: Team | None = None,
        actor: User | None,
        label: str = "",
        note: str = "",
    ) -> None:
        o = s.order
        action = "redispatch" if o.status in {S.DISPATCHED, S.ACCEPTED} else "dispatch"
        self.move(
            s,
            S.DISPATCHED,
            action,
            at,
            actor=actor,
            label=label,
            volunteer=volunteer,
            team=team,
            note=note,
            assigned_volunteer=volunteer,
            assigned_team=team,
            accepted_by=None,
            accepted_at=None,
            finish_by=None,
            dispatched_at=at,
        )

    def open_grab(self, s: _Story, at: dt.datetime, *, actor: User | None, label: str = "") -> None:
        self.move(s, S.GRABBING, "open_grab", at, actor=actor, label=label, assigned_volunteer=None, assigned_team=None)

    def soon(self, s: _Story, at: dt.datetime, low: int, high: int, who: str) -> dt.datetime:
        """``later``, for a move that takes a waiting order on: mostly made before its deadline runs out
        (someone on duty steps in), else after it, when the clock has sent it up a level."""
        moment = self.later(at, low, high, who)
        o = s.order
        if o.status not in AWAITING_ACCEPT or o.accept_by is None:
            return moment
        missed = o.accept_by + dt.timedelta(seconds=s.lag)
        if moment > missed and o.accept_by - at > dt.timedelta(minutes=3) and self.rng.random() < 0.8:
            rescue = _minute(at + (o.accept_by - at) * self.rng.uniform(0.2, 0.9))
            if rescue > at and self.awake(rescue, who) == rescue:
                return rescue
        return moment

    def wait_for_escalation(self, s: _Story, at: dt.datetime) -> dt.datetime:
        """Nobody here can take it: the time the sub-centre's staff act, after the deadline sends it up
        (before the new deadline, so that it seldom goes further up)."""
        o = s.order
        if o.accept_by is None:
            raise _Retry
        escalated = o.accept_by + dt.timedelta(seconds=s.lag)
        self.clock(s, escalated)
        return self.soon(s, max(at, escalated), 10, 120, "staff")

    def staff_dispatch(self, s: _Story, at: dt.datetime, *, grab: bool = False) -> dt.datetime:
        """The station dispatches to a volunteer or a team, or opens the order for grabs."""
        self.clock(s, at)
        candidates, teams = self.qualified(s), self.dispatch_teams(s)
        if not candidates and not (teams and not grab):
            at = self.wait_for_escalation(s, at)
            candidates, teams = self.qualified(s), self.dispatch_teams(s)
            if not candidates and not teams:
                raise _Retry
        actor = self.staff_for(s.order)
        if grab:
            self.open_grab(s, at, actor=actor)
        elif teams and (not candidates or self.rng.random() < 0.3):
            self.dispatch(s, at, team=self.rng.choice(teams), actor=actor, note=self.rng.choice(DISPATCH_NOTES))
        else:
            self.dispatch(
                s, at, volunteer=self.rng.choice(candidates), actor=actor, note=self.rng.choice(DISPATCH_NOTES)
            )
        return at

    def taker(self, s: _Story) -> Volunteer:
        o = s.order
        if o.assigned_volunteer is not None:
            return o.assigned_volunteer
        if o.assigned_team is not None:
            # A member who can be recorded as serving it (``complete_order`` takes no one from elsewhere).
            team_id = o.assigned_team.pk
            members = self.local_members(team_id, o)
            leader = self.leaders.get(team_id)
            if leader is not None and leader in members and self.rng.random() < 0.4:
                return leader
            if not members:
                raise _Retry
            return self.rng.choice(members)
        candidates = self.qualified(s)
        if not candidates:
            raise _Retry
        return self.rng.choice(candidates)

    def accept(self, s: _Story, at: dt.datetime) -> dt.datetime:
        """接单 or 抢单 (``accept_order``): the assignee, a member of the team, or the quickest qualified volunteer."""
        o = s.order
        self.clock(s, at)
        if o.status == S.GRABBING and not self.qualified(s):
            at = self.wait_for_escalation(s, at)
        volunteer = self.taker(s)
        self.move(
            s,
            S.ACCEPTED,
            "grab" if o.status == S.GRABBING else "accept",
            at,
            actor=volunteer.user,
            volunteer=volunteer,
            accepted_by=volunteer,
            accepted_at=at,
            finish_by=at + dt.timedelta(days=s.entry.finish_days),
            accept_by=None,
        )
        return at

    def decline(self, s: _Story, at: dt.datetime) -> None:
        o = s.order
        volunteer = self.taker(s)
        s.refusers.add(volunteer.pk)
        self.move(
            s,
            S.PENDING,
            "decline",
            at,
            actor=volunteer.user,
            note=self.rng.choice(DECLINE_REASONS),
            volunteer=volunteer,
            team=o.assigned_team,
            assigned_volunteer=None,
            assigned_team=None,
            status_note="",
        )

    def release(self, s: _Story, at: dt.datetime) -> None:
        volunteer = s.order.accepted_by
        assert volunteer is not None
        s.refusers.add(volunteer.pk)
        self.move(
            s,
            S.PENDING,
            "release",
            at,
            actor=volunteer.user,
            note=self.rng.choice(RELEASE_REASONS),
            volunteer=volunteer,
            assigned_volunteer=None,
            assigned_team=None,
            accepted_by=None,
            accepted_at=None,
            finish_by=None,
            status_note="",
            accept_by=at + dt.timedelta(hours=s.entry.accept_hours),
        )

    def start(self, s: _Story, at: dt.datetime) -> dt.datetime:
        o = s.order
        assert o.accepted_at is not None
        if o.preferred_at is not None and o.preferred_at > o.accepted_at + dt.timedelta(minutes=20):
            at = _minute(o.preferred_at + dt.timedelta(minutes=self.rng.randint(-10, 20)))
        volunteer = o.accepted_by
        assert volunteer is not None
        self.move(s, S.IN_SERVICE, "start", at, actor=volunteer.user, volunteer=volunteer, started_at=at)
        return at

    def complete(self, s: _Story) -> dt.datetime:
        """The station records the service (``complete_order``): who served, for how long, for how many."""
        o, entry = s.order, s.entry
        assert o.started_at is not None
        assert o.accepted_by is not None
        minutes = self.rng.randrange(entry.minutes[0], entry.minutes[1] + 1, 15)
        at = o.started_at + dt.timedelta(minutes=minutes + self.rng.randint(0, 20))
        hours = Decimal(minutes) / Decimal(60)
        servers = [(o.accepted_by, hours.quantize(Decimal("0.01")))]
        others: list[Volunteer] = []
        if o.assigned_team is not None and self.rng.random() < 0.4:
            others = self.local_members(o.assigned_team.pk, o)
        elif entry.code in {"cleaning", "escort", "bathing"} and self.rng.random() < 0.4:
            others = self.qualified(s)
        others = [v for v in others if v.pk != o.accepted_by.pk and self.local(v, o)]
        if others:
            helper_hours = max(Decimal("0.25"), hours - Decimal("0.25") * self.rng.randint(0, 1))
            servers.append((self.rng.choice(others), helper_hours.quantize(Decimal("0.01"))))
        beneficiaries = 1
        if entry.code == "meals":
            beneficiaries = int(Decimal(str(o.answers.get("portions", "1"))))
        elif entry.code in {"clinic", "cleaning"}:
            beneficiaries = self.rng.randint(1, 2)
        actor = self.staff_for(o)
        self.move(
            s,
            S.COMPLETED,
            "complete",
            at,
            actor=actor,
            note=_("服务已完成"),
            volunteer=o.accepted_by,
            completed_at=at,
            started_at=o.started_at,
            beneficiaries=beneficiaries,
            completion_note=self.rng.choice(COMPLETION_NOTES[entry.code]),
        )
        s.servers = servers
        s.recorder = actor
        return at

    def rate(self, s: _Story, at: dt.datetime, rating: int) -> None:
        o = s.order
        if rating <= LOW_RATING:
            comment = self.rng.choice(LOW_COMMENTS)
        elif rating == 3:
            comment = self.rng.choice(FAIR_COMMENTS)
        else:
            comment = self.rng.choice(GOOD_COMMENTS) if self.rng.random() < 0.6 else ""
        if o.requester is None:
            raise _Retry
        actor = o.requester
        if o.channel == Channel.STAFF and self.rng.random() < 0.5:
            actor = self.staff_for(o)  # a rating taken by phone
        low = rating <= LOW_RATING
        self.move(
            s,
            S.COMPLAINT if low else S.CLOSED,
            "rate",
            at,
            actor=actor,
            note=_("评分%(n)d：%(comment)s") % {"n": rating, "comment": comment}
            if comment
            else _("评分%(n)d") % {"n": rating},
            rating=rating,
            rating_comment=comment,
            rated_at=at,
            closed_at=None if low else at,
            status_note=_("感谢您的评价。") if not low else _("您的意见已转站长复核。"),
        )

    def review(self, s: _Story, at: dt.datetime) -> None:
        note = self.rng.choice(REVIEW_NOTES)
        self.move(s, S.CLOSED, "review", at, actor=self.staff_for(s.order), note=note, review_note=note, closed_at=at)

    # -- stories --------------------------------------------------------------------------------

    def new_story(
        self,
        entry: Entry,
        created: dt.datetime,
        *,
        channel: str,
        requester: User | None,
        near: Site,
        located: bool = True,
        description: str = "",
        answers: dict[str, Any] | None = None,
        address: str = "",
    ) -> _Story:
        """点单 (``place_order``): the row and its "create" entry; the rule applies when it is ready."""
        service_type = self.types[entry.code]
        caller = requester or self.rng.choice(self.by_home[near.pk] or self.residents)
        lat = lng = None
        if located:
            assert near.latitude is not None
            assert near.longitude is not None
            lat, lng = _offset(near.latitude, near.longitude, self.rng.uniform(0, 360), self.rng.uniform(30, 220))
            site = self.nearest(lat, lng)
        else:
            site = self.sub if channel == Channel.OPEN311 else near
        if not description:
            description, answers = self.rng.choice(REQUESTS[entry.code])
        preferred = None
        if entry.kind == OrderKind.SERVICE and self.rng.random() < 0.5:
            day = timezone.localtime(created).date() + dt.timedelta(days=self.rng.randint(1, 3))
            preferred = timezone.make_aware(dt.datetime.combine(day, dt.time(self.rng.choice((9, 10, 14, 15)))))
        status = (
            S.REPORTED if entry.kind == OrderKind.REPORT else (S.REVIEWING if service_type.needs_review else S.PENDING)
        )
        created_by = None
        if channel == Channel.STAFF:
            home = self.by_pk[site.pk]
            created_by = home.manager if home.manager_id and caller.home_site_id == site.pk else self.sub_admin
        order = Order(
            kind=entry.kind,
            service_type=service_type,
            site=site,
            status=status,
            requester=None if channel == Channel.OPEN311 else caller,
            channel=channel,
            created_by=created_by if channel == Channel.STAFF else (caller if channel == Channel.SELF else None),
            client=self.client if channel == Channel.OPEN311 else None,
            contact_name=caller.name,
            contact_phone=caller.phone,
            description=description,
            address=address or self.addresses.get(caller.pk, "") or near.address,
            latitude=lat,
            longitude=lng,
            preferred_at=preferred,
            answers=dict(answers or {}),
            created_at=created,
            updated_at=created,
            accept_by=created + dt.timedelta(hours=entry.accept_hours) if status == S.PENDING else None,
        )
        story = _Story(order=order, entry=entry, lag=self.rng.randint(*ESCALATION_LAG))
        story.events.append(
            OrderEvent(
                order=order,
                action="create",
                to_status=status,
                actor=order.created_by,
                actor_label=self.client.name if channel == Channel.OPEN311 and self.client else "",
                at=created,
            )
        )
        if entry.kind == OrderKind.REPORT and (channel == Channel.SELF or self.rng.random() < 0.4):
            story.photos.append((PhotoStage.REQUEST, self.pictures[entry.code], order.created_by, created))
        if status == S.PENDING:
            self.pending_rule(story, created)
        return story

    def attempt(self, make: Callable[[], _Story], target: str) -> _Story | None:
        for _try in range(ATTEMPTS):
            try:
                story = make()
            except _Retry:
                continue
            self.clock(story, self.now)
            if story.order.status == target and story.last <= self.now - dt.timedelta(minutes=1):
                return story
        return None

    def pick(self, entries: Sequence[Entry]) -> Entry:
        return self.rng.choices(entries, weights=[e.weight for e in entries])[0]

    def requester(self) -> User:
        roll = self.rng.random()
        if roll < 0.03:
            return self.wang
        if roll < 0.06:
            return self.liu
        return self.rng.choice(self.residents)

    def service_story(self, target: str, window: tuple[int, int]) -> _Story:
        reviewed = [e for e in MENU if e.review]
        if target == S.REVIEWING or (target == S.REJECTED and self.rng.random() < 0.6):
            entry = self.pick(reviewed)
        else:
            entry = self.pick(MENU)
        latest, earliest = window
        if earliest == 0:
            earliest = int(entry.accept_hours * 60 * 1.5)
        roll = self.rng.random()
        rated = target == S.COMPLAINT or (target == S.CLOSED and roll < 0.8)
        channel = Channel.SELF if roll < 0.7 else Channel.STAFF if roll < 0.88 or rated else Channel.OPEN311
        caller = self.requester()
        near = self.by_pk[caller.home_site_id or self.sub.pk]
        if channel != Channel.STAFF and near.pk in self.zone and self.rng.random() < 0.2:
            near = self.zone[near.pk]  # asked at, or for somewhere near, the area station
        located = channel != Channel.OPEN311 or self.rng.random() < 0.75
        if channel == Channel.STAFF:
            located = False  # taken by phone: the address, and the resident's own station
        created = self.now - dt.timedelta(minutes=self.rng.randint(latest, earliest))
        # Most orders come in during the day; the hotline and the evening bring a few more.
        daytime = channel == Channel.STAFF or self.rng.random() < 0.85
        created = _minute(self.awake(created, "staff" if daytime else "resident"))
        s = self.new_story(
            entry,
            created,
            channel=channel,
            requester=caller if channel != Channel.OPEN311 else None,
            near=near,
            located=located,
        )
        if not self.qualified(s) and not self.dispatch_teams(s) and self.rng.random() < 0.7:
            raise _Retry  # mostly people ask for what their station can send someone for
        self.play_service(s, target)
        return s

    def overdue_story(self, target: str) -> _Story:
        """An order whose deadline ran out a minute or three ago: the clock has not come round yet."""
        entry = self.pick([e for e in MENU if not e.review])
        caller = self.requester()
        near = self.by_pk[caller.home_site_id or self.sub.pk]
        created = self.now - dt.timedelta(hours=entry.accept_hours, minutes=self.rng.randint(1, 3))
        s = self.new_story(entry, created, channel=Channel.SELF, requester=caller, near=near)
        s.lag = ESCALATION_LAG[1]
        if s.order.status != S.PENDING:
            raise _Retry
        if target == S.DISPATCHED:
            at = self.staff_dispatch(s, self.later(created, 10, 120, "staff"))
            if at >= self.now:
                raise _Retry
        return s

    def play_service(self, s: _Story, target: str) -> None:
        o, rng = s.order, self.rng
        at = o.created_at
        if o.status == S.REVIEWING:
            if target == S.REVIEWING:
                return
            at = self.later(at, 20, 240, "staff")
            if target == S.REJECTED and rng.random() < 0.7:
                self.reject(s, at, rng.choice(REVIEW_REJECTIONS[s.entry.code]))
                return
            if target == S.CANCELLED and rng.random() < 0.3:
                self.cancel(s, at)
                return
            self.approve(s, at)
        if target == S.REJECTED:
            self.reject(s, self.later(at, 30, 300, "staff"), rng.choice(PENDING_REJECTIONS))
            return
        if target == S.CANCELLED:
            if o.status == S.PENDING and rng.random() < 0.4:
                at = self.staff_dispatch(s, self.later(at, 10, 180, "staff"))
            self.cancel(s, self.later(at, 10, 1440, "resident"))
            return
        if target == S.PENDING:
            roll = rng.random()
            if roll < 0.3 and o.status == S.PENDING:
                at = self.staff_dispatch(s, self.later(at, 5, 60, "staff"))
                self.decline(s, self.later(at, 5, 60, "volunteer"))
            elif roll < 0.4 and o.status == S.PENDING:
                at = self.staff_dispatch(s, self.later(at, 5, 60, "staff"))
                at = self.accept(s, self.later(at, 5, 60, "volunteer"))
                self.release(s, self.later(at, 10, 120, "volunteer"))
            return
        if o.status == S.PENDING:
            grab = target == S.GRABBING or (target not in {S.DISPATCHED} and rng.random() < 0.12)
            at = self.staff_dispatch(s, self.soon(s, at, 10, 180, "staff"), grab=grab)
        elif o.status == S.GRABBING and target == S.DISPATCHED:
            at = self.staff_dispatch(s, self.soon(s, at, 30, 240, "staff"))
        elif o.status == S.DISPATCHED and target == S.GRABBING:
            at = self.soon(s, at, 30, 240, "staff")
            self.open_grab(s, at, actor=self.staff_for(o))
        if o.status == S.DISPATCHED and rng.random() < 0.12:
            at = self.soon(s, at, 10, 180, "volunteer")
            self.decline(s, at)
            at = self.staff_dispatch(s, self.soon(s, at, 10, 120, "staff"))
        if target in {S.DISPATCHED, S.GRABBING}:
            return
        at = self.accept(s, self.soon(s, at, 5, 240, "volunteer"))
        if rng.random() < 0.04:
            self.release(s, self.later(at, 30, 600, "volunteer"))
            at = self.staff_dispatch(s, self.soon(s, s.last, 10, 120, "staff"))
            at = self.accept(s, self.soon(s, at, 5, 240, "volunteer"))
        if target == S.ACCEPTED:
            return
        at = self.start(s, self.later(at, 30, 1440, "volunteer"))
        if target == S.IN_SERVICE:
            if at < self.now - dt.timedelta(hours=8):
                raise _Retry
            return
        at = self.complete(s)
        if target == S.COMPLETED:
            return
        if o.channel == Channel.OPEN311:
            return  # nobody can rate a hotline order: the clock closes it
        roll = rng.random()
        if target == S.COMPLAINT:
            self.rate(s, self.later(at, 60, 3 * 1440, "resident"), rng.choice((1, 2, 2)))
        elif roll < 0.8:
            self.rate(s, self.later(at, 30, 3 * 1440, "resident"), rng.choice(STARS))
        elif roll < 0.85:
            self.rate(s, self.later(at, 60, 2 * 1440, "resident"), rng.choice((1, 2, 2)))
            self.review(s, self.later(s.last, 120, 2 * 1440, "staff"))
        # Otherwise nobody rates it and the clock closes it.

    def report_story(self, target: str, window: tuple[int, int]) -> _Story:
        rng = self.rng
        entry = self.pick(REPORTS)
        roll = rng.random()
        channel = Channel.SELF if roll < 0.8 else Channel.OPEN311 if roll < 0.92 else Channel.STAFF
        reporter = rng.choice(self.volunteers).user if rng.random() < 0.3 else self.requester()
        near = self.by_pk[reporter.home_site_id or self.sub.pk]
        if near.level != SiteLevel.STATION:
            near = rng.choice([s for s in self.stations if s.kind == SiteKind.RESIDENTIAL])
        where = f"{_area(near)}{rng.randint(1, 30)}号楼{rng.choice(SPOTS)}"
        latest, earliest = window
        created = _minute(self.awake(self.now - dt.timedelta(minutes=rng.randint(latest, earliest)), "resident"))
        s = self.new_story(
            entry,
            created,
            channel=channel,
            requester=reporter if channel != Channel.OPEN311 else None,
            near=near,
            description=rng.choice(REPORT_TEXTS[entry.code]).format(where=where),
            address=where,
        )
        self.play_report(s, target)
        return s

    def play_report(self, s: _Story, target: str) -> None:
        rng, code = self.rng, s.entry.code
        at = s.order.created_at
        if target == S.REPORTED:
            return
        staff = self.staff_for(s.order)
        if target == S.REJECTED:
            at = self.later(at, 30, 600, "staff")
            note = rng.choice(REPORT_REJECTIONS)
            self.move(s, S.REJECTED, "reject", at, actor=staff, note=note, closed_at=at, accept_by=None)
            return
        roll = rng.random()
        if target == S.RECTIFIED and roll < 0.3:
            self.rectify(s, self.later(at, 60, 2 * 1440, "staff"), staff)
            return
        at = self.later(at, 60, 1440, "staff")
        self.move(s, S.PERSUADED, "persuade", at, actor=staff, note=rng.choice(PERSUASIONS[code]), follow_up_on=None)
        if target == S.PERSUADED:
            return
        if target == S.RECTIFIED and roll < 0.75:
            self.rectify(s, self.later(at, 1440, 7 * 1440, "staff"), staff)
            return
        at = self.later(at, 1440, 4 * 1440, "staff")
        if target == S.UNRECTIFIED:
            follow_up = self.today + dt.timedelta(days=rng.randint(1, 6))
        else:
            follow_up = timezone.localdate(at) + dt.timedelta(days=rng.randint(3, 7))
        self.move(
            s, S.UNRECTIFIED, "not_rectified", at, actor=staff, note=rng.choice(NOT_RECTIFIED), follow_up_on=follow_up
        )
        if target == S.UNRECTIFIED:
            return
        day = timezone.make_aware(dt.datetime.combine(follow_up, dt.time(9)))
        self.rectify(s, self.later(day, 0, 420), staff)

    def rectify(self, s: _Story, at: dt.datetime, staff: User) -> None:
        note = self.rng.choice(RECTIFICATIONS[s.entry.code])
        self.move(s, S.RECTIFIED, "rectify", at, actor=staff, note=note, closed_at=at, follow_up_on=None)
        if self.rng.random() < 0.4:
            s.photos.append((PhotoStage.FOLLOW_UP, self.pictures["done"], staff, at))

    # -- writing --------------------------------------------------------------------------------

    def write(self, stories: list[_Story]) -> None:
        orders = [s.order for s in stories]
        Order.objects.bulk_create(orders, batch_size=500)
        OrderEvent.objects.bulk_create([e for s in stories for e in s.events], batch_size=1000)
        OrderPhoto.objects.bulk_create(
            [
                OrderPhoto(order=s.order, stage=stage, image=name, uploaded_by=by, uploaded_at=at)
                for s in stories
                for stage, name, by, at in s.photos
            ]
        )
        served: list[tuple[Order, Volunteer, Decimal, ServiceRecord]] = []
        for s in stories:
            o = s.order
            if not s.servers:
                continue
            assert o.started_at is not None
            assert o.completed_at is not None
            assert s.recorder is not None
            for volunteer, hours in s.servers:
                record = ServiceRecord(
                    volunteer=volunteer,
                    description=(_("点单服务：%(type)s") % {"type": s.entry.name})[:200],
                    site=o.site,
                    started_at=o.started_at,
                    ended_at=o.completed_at,
                    hours=hours,
                    source=ServiceSource.ORDER,
                    source_ref=f"order:{o.pk}",
                    organiser_site=o.site,
                    recorder=s.recorder,
                    recorded_at=o.completed_at,
                )
                served.append((o, volunteer, hours, record))
        ServiceRecord.objects.bulk_create([r for *_rest, r in served], batch_size=500)
        OrderServer.objects.bulk_create(
            [OrderServer(order=o, volunteer=v, hours=h, record=r) for o, v, h, r in served], batch_size=500
        )
        AuditLog.objects.bulk_create(
            [
                AuditLog(
                    created_at=r.recorded_at,
                    actor=r.recorder,
                    action=AuditAction.LEDGER_ENTRY,
                    target_type="volunteers.servicerecord",
                    target_id=str(r.pk),
                    site=r.site,
                    detail={"hours": str(r.hours), "source": "demo"},
                )
                for *_rest, r in served
            ],
            batch_size=500,
        )

    # -- through the services ---------------------------------------------------------------------

    def then(self, order: Order, when: dt.datetime, move: Callable[..., object], **kwargs: Any) -> Order:
        """``move(order=order, **kwargs)`` through its service, then put it at ``when``: its history rows,
        and the order's timestamps it set from the wall clock (deadlines shift with them)."""
        order.refresh_from_db()
        before = {f: getattr(order, f) for f in STAMPS}
        last = OrderEvent.objects.filter(order=order).aggregate(m=Max("id"))["m"] or 0
        move(order=order, **kwargs)
        new = OrderEvent.objects.filter(order=order, pk__gt=last).order_by("pk")
        first = new.first()
        if first is not None:
            stamp = first.at
            order.refresh_from_db()
            shift = when - stamp
            changes = {
                f: getattr(order, f) + shift
                for f in STAMPS
                if getattr(order, f) is not None and getattr(order, f) != before[f] and getattr(order, f) >= stamp
            }
            if changes:
                Order.objects.filter(pk=order.pk).update(**changes)
            new.update(at=when)
        order.refresh_from_db()
        return order

    def upload(self, code: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(f"{code}.jpg", _picture(code), content_type="image/jpeg")

    def candidate(self, order: Order, avoid: Volunteer | None = None) -> Volunteer | None:
        """A qualified volunteer of the order's station, as staff would pick from the recommender's list."""
        entry = self.entries[order.service_type_id]
        root = self.responsible(order)
        found = [
            v
            for v in self.volunteers
            if self.by_pk[v.site_id].path.startswith(root.path)
            and self.qualifies(v, entry)
            and (avoid is None or v.pk != avoid.pk)
        ]
        return self.rng.choice(found) if found else None

    def day(self, offset: int, hhmm: str) -> dt.datetime:
        """``offset`` days from today (Shanghai) at ``hhmm``: when a step of the showcase days ago happened."""
        hour, minute = (int(part) for part in hhmm.split(":"))
        return timezone.make_aware(dt.datetime.combine(self.today + dt.timedelta(days=offset), dt.time(hour, minute)))

    def point(self, site: Site, spread: float = 80) -> dict[str, Any]:
        """A location within ``spread`` metres of the site and nearer to it than to any other station, as
        ``place_order`` takes it."""
        assert site.latitude is not None
        assert site.longitude is not None
        for _try in range(20):
            lat, lng = _offset(site.latitude, site.longitude, self.rng.uniform(0, 360), self.rng.uniform(10, spread))
            if site.level != SiteLevel.STATION or self.nearest(lat, lng) == site:
                break
        return {"latitude": lat, "longitude": lng}

    def resident_of(self, suffix: str, *, avoid: Sequence[User] = ()) -> User:
        pool = [u for u in self.by_home[self.sites[f"{SUBCENTRE}-{suffix}"].pk] if u not in avoid]
        return self.rng.choice(pool or self.residents)

    def servable(self, site: Site, codes: Sequence[str]) -> str:
        """The first of ``codes`` that a volunteer of ``site`` can serve (else the first)."""
        for code in codes:
            entry = self.entries[self.types[code].pk]
            if any(v.site_id == site.pk and self.qualifies(v, entry) for v in self.volunteers):
                return code
        return codes[0]

    def place(self, when: dt.datetime, code: str, **kw: Any) -> Order:
        entry = next(e for e in (*MENU, *REPORTS) if e.code == code)
        if "description" not in kw:
            if entry.kind == OrderKind.REPORT:
                raise ValueError(code)
            description, answers = self.rng.choice(REQUESTS[code])
            kw.update(description=description, answers=answers)
        requester = kw.get("requester") or kw.get("actor")
        if requester is not None and "address" not in kw:
            kw["address"] = self.addresses.get(requester.pk, "")
        order = services.place_order(service_type=self.types[code], now=when, **kw)
        self.made.append(order)
        return order

    def deliver(self, order: Order, accepted: dt.datetime, started: dt.datetime, minutes: int) -> Order:
        """接单 → 开始 → 完成 for a dispatched order, through the services, at the times given."""
        order.refresh_from_db()
        volunteer = order.assigned_volunteer
        if volunteer is None and order.assigned_team_id is not None:
            members = self.local_members(order.assigned_team_id, order)
            leader = self.leaders.get(order.assigned_team_id)
            volunteer = leader if leader in members else members[0]
        assert volunteer is not None
        self.then(order, accepted, services.accept_order, actor=volunteer.user)
        services.start_order(actor=volunteer.user, order=order, now=started)
        services.complete_order(
            actor=self.staff_for(order),
            order=order,
            servers=[services.Served(volunteer, Decimal(minutes) / Decimal(60))],
            beneficiaries=1,
            note=self.rng.choice(COMPLETION_NOTES[self.entries[order.service_type_id].code]),
            now=started + dt.timedelta(minutes=minutes + 5),
        )
        order.refresh_from_db()
        return order

    def dispatch_to(self, order: Order, when: dt.datetime, volunteer: Volunteer | None = None) -> bool:
        """派单 to ``volunteer`` or a qualified one; with nobody to send, the station calls it off."""
        volunteer = volunteer or self.candidate(order)
        staff = self.staff_for(order)
        if volunteer is None:
            reason = STAFF_CANCEL_REASONS[0]
            self.then(order, when, services.cancel_order, actor=staff, reason=reason)
            return False
        self.then(order, when, services.dispatch_order, actor=staff, volunteer=volunteer)
        return True

    def tidy(self) -> None:
        """A showcase order left waiting past its deadline (its station had nobody to send) is called off
        before the deadline, so that nothing reads as overdue without the clock having seen it."""
        for order in self.made:
            order.refresh_from_db()
            if order.status in AWAITING_ACCEPT and order.accept_by is not None and order.accept_by < self.now:
                when = max(order.updated_at + dt.timedelta(minutes=5), order.accept_by - dt.timedelta(minutes=30))
                self.then(
                    order, when, services.cancel_order, actor=self.staff_for(order), reason=STAFF_CANCEL_REASONS[0]
                )

    def showcase(self) -> None:
        """A representative set through the services, for the personas the demo logins show."""
        now, h = self.now, dt.timedelta(hours=1)
        day = self.day
        m = dt.timedelta(minutes=1)
        r01, r02 = self.sites[f"{SUBCENTRE}-R01"], self.sites[f"{SUBCENTRE}-R02"]
        li = r02.manager or self.sub_admin
        wang, liu = self.wang, self.liu
        near_wang = self.point(r01, 60)

        # 王阿姨: a repair waiting for the volunteer, a 陪诊 waiting for review, a haircut to rate.
        repair = self.place(
            now - 2 * h - 10 * m, self.servable(r01, ("repair", "clinic", "cleaning")), actor=wang, **near_wang
        )
        self.dispatch_to(repair, now - 1 * h - 50 * m)
        self.place(
            now - 40 * m,
            "escort",
            actor=wang,
            description="下周三要去医院复查心脏，子女都上班，想请志愿者陪同。",
            answers={"hospital": "和平区中心医院 心内科", "mobility": "cane"},
            preferred_at=timezone.make_aware(
                dt.datetime.combine(self.today + dt.timedelta(days=(2 - self.today.weekday()) % 7 + 7), dt.time(8, 30))
            ),
            **near_wang,
        )
        haircut = self.place(day(-3, "08:50"), "haircut", actor=wang, **near_wang)
        volunteer = self.chen if self.qualifies(self.chen, self.entries[haircut.service_type_id]) else None
        if haircut.site_id == r01.pk and self.dispatch_to(haircut, day(-3, "09:40"), volunteer):
            self.deliver(haircut, day(-3, "11:05"), day(-1, "14:30"), 45)

        # 刘大爷: 李站长 ordered his lunch by phone; it is on its way. His own 代购 he withdrew.
        code = self.servable(r02, ("meals", "shopping", "cleaning", "haircut"))
        words: dict[str, Any] = {}
        if code == "meals":
            words = {
                "description": "刘大爷电话预约：老伴住院，这几天想订午饭送到家。",
                "answers": {"portions": "1", "meal": "lunch"},
            }
        meals = self.place(now - 2 * h - 30 * m, code, actor=li, requester=liu, **words)
        if self.dispatch_to(meals, now - 2 * h - 15 * m):
            meals.refresh_from_db()
            volunteer = meals.assigned_volunteer
            assert volunteer is not None
            self.then(meals, now - 2 * h, services.accept_order, actor=volunteer.user)
            services.start_order(actor=volunteer.user, order=meals, now=now - 40 * m)
        shopping = self.place(day(-1, "08:40"), "shopping", actor=liu)
        self.then(
            shopping,
            day(-1, "09:55"),
            services.cancel_order,
            actor=liu,
            reason="家里人已经帮忙买好了。",
        )

        # 小陈's tasks: a phone lesson dispatched to her, and a 代购 open for grabs at her station.
        neighbour = self.resident_of("R01", avoid=[wang])
        lesson = self.place(now - 5 * h, "phone", actor=neighbour, **near_wang)
        if lesson.site_id == r01.pk and self.qualifies(self.chen, self.entries[lesson.service_type_id]):
            self.dispatch_to(lesson, now - 4 * h - 30 * m, self.chen)
        errand = self.place(now - 50 * m, "shopping", actor=self.resident_of("R01", avoid=[wang, neighbour]))
        self.then(errand, now - 35 * m, services.open_grab, actor=self.staff_for(errand))

        # The hotline: a cleaning with no location lands at the sub-centre, which sends 小蜜蜂 (赵队长's team);
        # a health check near 临河 waits for dispatch.
        hotline = self.client
        assert hotline is not None
        caller = self.rng.choice(self.residents)
        cleaning = self.place(
            now - 6 * h,
            "cleaning",
            actor=None,
            client=hotline,
            contact_name=caller.name,
            contact_phone=caller.phone,
            address=self.addresses.get(caller.pk, ""),
            description="市民来电：独居老人家中杂物堆积，希望志愿者上门帮忙打扫整理。",
        )
        bees = self.teams.get(BEES)
        if bees is not None:
            self.then(
                cleaning,
                now - 5 * h - 30 * m,
                services.dispatch_order,
                actor=self.sub_admin,
                team=bees,
            )
        q3 = self.sites[f"{SUBCENTRE}-Q3"]
        caller = self.rng.choice(self.residents)
        self.place(
            now - 1 * h,
            "clinic",
            actor=None,
            client=hotline,
            contact_name=caller.name,
            contact_phone=caller.phone,
            address=f"{q3.address}附近",
            **self.point(q3, 150),
        )

        # The rules: an order near 金融街 opens for grabs, one near 梧桐 is dispatched by the recommender.
        q7, q2 = self.sites[f"{SUBCENTRE}-Q7"], self.sites[f"{SUBCENTRE}-Q2"]
        self.place(
            now - 25 * m,
            "repair",
            actor=self.resident_of("R24"),
            **self.point(q7, 60),
        )
        auto = self.place(
            now - 4 * h,
            "cleaning",
            actor=self.resident_of("R05"),
            **self.point(q2, 60),
        )
        auto.refresh_from_db()
        if auto.status == S.DISPATCHED and auto.assigned_volunteer is not None:
            taker = auto.assigned_volunteer
            self.then(auto, now - 3 * h, services.accept_order, actor=taker.user)

        # A low rating under review, one reviewed and closed, one five-star; a declined repair; a refused bath.
        complaint = self.place(
            day(-4, "09:05"),
            self.servable(r02, ("repair", "cleaning", "clinic")),
            actor=self.resident_of("R02", avoid=[liu]),
        )
        if self.dispatch_to(complaint, day(-4, "10:00")):
            self.deliver(complaint, day(-4, "11:20"), day(-2, "14:00"), 60)
            requester = complaint.requester
            assert requester is not None
            self.then(
                complaint,
                day(-1, "10:20"),
                services.rate_order,
                actor=requester,
                rating=2,
                comment=LOW_COMMENTS[1],
            )
        reviewed = self.place(day(-6, "08:50"), "haircut", actor=self.resident_of("R01", avoid=[wang]))
        if self.dispatch_to(reviewed, day(-6, "09:40")):
            self.deliver(reviewed, day(-6, "12:00"), day(-5, "09:30"), 30)
            requester = reviewed.requester
            assert requester is not None
            self.then(
                reviewed,
                day(-5, "16:10"),
                services.rate_order,
                actor=requester,
                rating=1,
                comment=LOW_COMMENTS[0],
            )
            self.then(
                reviewed,
                day(-4, "10:30"),
                services.review_complaint,
                actor=self.staff_for(reviewed),
                note=REVIEW_NOTES[0],
            )
        q6 = self.sites[f"{SUBCENTRE}-Q6"]
        legal = self.place(
            day(-5, "09:20"),
            "legal",
            actor=self.rng.choice(self.residents),
            description="想咨询一下老房子拆迁补偿分配的问题，家里兄妹意见不一致。",
            answers={"matter": "family"},
            **self.point(q6, 60),
        )
        lawyers = self.teams.get(LAWYERS)
        if lawyers is not None and legal.site_id == q6.pk and self.local_members(lawyers.pk, legal):
            self.then(legal, day(-5, "10:40"), services.dispatch_order, actor=self.staff_for(legal), team=lawyers)
            sent = True
        else:
            sent = self.dispatch_to(legal, day(-5, "10:40"))
        if sent:
            self.deliver(legal, day(-5, "14:00"), day(-4, "15:00"), 90)
            requester = legal.requester
            assert requester is not None
            self.then(
                legal,
                day(-3, "19:30"),
                services.rate_order,
                actor=requester,
                rating=5,
                comment="律师讲得很清楚，谢谢！",
            )
        declined = self.place(
            now - 3 * h,
            self.servable(r02, ("repair", "clinic", "cleaning")),
            actor=self.resident_of("R02", avoid=[liu]),
        )
        first = self.candidate(declined)
        if first is not None and self.dispatch_to(declined, now - 2 * h - 50 * m, first):
            self.then(
                declined,
                now - 2 * h,
                services.decline_order,
                actor=first.user,
                reason=DECLINE_REASONS[1],
            )
        bath = self.place(day(-2, "09:00"), "bathing", actor=self.resident_of("R02"))
        self.then(
            bath,
            day(-2, "11:00"),
            services.reject_order,
            actor=self.staff_for(bath),
            reason=REVIEW_REJECTIONS["bathing"][0],
        )
        escort = self.place(
            now - 5 * h,
            "escort",
            actor=self.resident_of("R01", avoid=[wang]),
            answers={"hospital": "市第一人民医院 眼科", "mobility": "wheelchair"},
            description="母亲坐轮椅，要去眼科复诊，需要有人推轮椅陪同。",
        )
        self.then(escort, now - 4 * h - 30 * m, services.approve_order, actor=self.staff_for(escort))

        # No type chosen: the classifier picks one and shows its words; for the range hood 张站长 corrects it.
        guesses: tuple[tuple[dt.timedelta, str, dict[str, Any], str], ...] = (
            (3 * h + 20 * m, "油烟机坏了，厨房全是油烟。", {"appliance": "small"}, "cleaning"),
            (1 * h + 10 * m, "想请人上门帮老伴理个发。", {}, ""),
        )
        for ago, text, answers, correct in guesses:
            asker = self.resident_of("R01", avoid=[wang])
            try:
                guessed = services.place_order(
                    actor=asker,
                    description=text,
                    answers=answers,
                    address=self.addresses.get(asker.pk, ""),
                    now=now - ago,
                    **self.point(r01, 60),
                )
            except Invalid:
                continue
            self.made.append(guessed)
            if correct and guessed.service_type_id != self.types[correct].pk and guessed.status == S.PENDING:
                self.then(
                    guessed,
                    now - ago + 25 * m,
                    services.override_type,
                    actor=self.staff_for(guessed),
                    service_type=self.types[correct],
                    note="电话核实：油烟机能用，是油污太多，改为卫生清洁。",
                )

        # 随手拍 through the services: 王阿姨's photo of 飞线充电 just now, and one of each step after it.
        reports: list[tuple[str, User, dt.datetime]] = [
            ("wires", wang, now - h),
            ("dogs", self.rng.choice(self.volunteers).user, day(-2, "09:40")),
            ("shacks", self.resident_of("R02"), day(-6, "16:20")),
            ("sorting", self.resident_of("R01", avoid=[wang]), day(-4, "07:50")),
        ]
        made: list[Order] = []
        for code, reporter, when in reports:
            home = self.by_pk[reporter.home_site_id or r01.pk]
            if home.level != SiteLevel.STATION:
                home = r01
            where = f"{_area(home)}{self.rng.randint(1, 30)}号楼{self.rng.choice(SPOTS)}"
            made.append(
                services.place_order(
                    actor=reporter,
                    service_type=self.types[code],
                    description=REPORT_TEXTS[code][0].format(where=where),
                    address=where,
                    photos=[self.upload(code)],
                    now=when,
                    **self.point(home, 150),
                )
            )
        _wires, dogs, shacks, sorting = made
        for report, when in ((dogs, day(-2, "14:20")), (shacks, day(-5, "10:00")), (sorting, day(-4, "11:30"))):
            code = self.entries[report.service_type_id].code
            self.then(
                report,
                when,
                services.persuade_report,
                actor=self.staff_for(report),
                note=PERSUASIONS[code][0],
            )
        follow_up = self.today + dt.timedelta(days=3)
        self.then(
            shacks,
            day(-1, "10:00"),
            services.mark_not_rectified,
            actor=self.staff_for(shacks),
            follow_up_on=follow_up,
            note=NOT_RECTIFIED[1],
        )
        self.then(
            sorting,
            day(-1, "15:30"),
            services.mark_rectified,
            actor=self.staff_for(sorting),
            note=RECTIFICATIONS["sorting"][0],
            photos=[self.upload("done")],
        )
        caller = self.rng.choice(self.residents)
        other = services.place_order(
            actor=None,
            client=hotline,
            service_type=self.types["other"],
            description="市民来电反映：小区门口墙上贴满了小广告。",
            contact_name=caller.name,
            contact_phone=caller.phone,
            address=f"{r02.address}门口",
            now=day(-3, "10:10"),
            **self.point(r02, 100),
        )
        self.then(
            other,
            day(-3, "14:00"),
            services.reject_order,
            actor=self.staff_for(other),
            reason=REPORT_REJECTIONS[0],
        )
        self.tidy()

    # -- all of it ---------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.build_menu()
        self.build_rules()
        self.build_client()
        self.build_pictures()
        self.showcase()
        stories: list[_Story] = []
        for target, count, window in SERVICE_TARGETS:
            for _n in range(count):
                story = self.attempt(functools.partial(self.service_story, target, window), target)
                if story is not None:
                    stories.append(story)
        for target in (S.PENDING, S.DISPATCHED, S.PENDING):
            story = self.attempt(functools.partial(self.overdue_story, target), target)
            if story is not None:
                stories.append(story)
        for target, count, window in REPORT_TARGETS:
            for _n in range(count):
                story = self.attempt(functools.partial(self.report_story, target, window), target)
                if story is not None:
                    stories.append(story)
        stories.sort(key=lambda s: (s.order.created_at, s.order.kind))
        self.write(stories)
        hotline = self.client
        assert hotline is not None
        used = Order.objects.filter(client=hotline).aggregate(m=Max("created_at"))["m"]
        Open311Client.objects.filter(pk=hotline.pk).update(last_used_at=used)
        here = Order.objects.filter(site__path__startswith=self.sub.path)
        return {
            "服务菜单": ServiceType.objects.filter(kind=OrderKind.SERVICE).count(),
            "服务订单": here.filter(kind=OrderKind.SERVICE).count(),
            "随手拍": here.filter(kind=OrderKind.REPORT).count(),
            "订单评价": here.filter(rating__isnull=False).count(),
        }


# --- Photos -----------------------------------------------------------------------------------


def _picture(code: str) -> bytes:
    """A small drawn scene for a report category (or ``done``, the tidy place afterwards), as JPEG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (186, 214, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 370, 640, 480), fill=(150, 150, 140))
    draw.rectangle((40, 60, 380, 370), fill=(214, 196, 170), outline=(120, 100, 80), width=3)
    for row in range(4):
        for col in range(4):
            x, y = 65 + col * 80, 85 + row * 70
            draw.rectangle((x, y, x + 45, y + 40), fill=(120, 160, 190), outline=(90, 90, 90))
    draw.rectangle((180, 300, 240, 370), fill=(110, 80, 60))
    if code == "wires":
        draw.line((150, 145, 300, 250, 470, 330), fill=(20, 20, 20), width=4)
        draw.rectangle((430, 320, 560, 345), fill=(60, 120, 200))
        for cx in (445, 545):
            draw.ellipse((cx - 22, 335, cx + 22, 379), outline=(30, 30, 30), width=6)
    elif code == "dogs":
        draw.ellipse((420, 300, 540, 350), fill=(160, 110, 60))
        draw.ellipse((520, 270, 570, 320), fill=(160, 110, 60))
        for x in (435, 460, 500, 525):
            draw.line((x, 345, x, 375), fill=(160, 110, 60), width=8)
        for x in (300, 330):
            draw.ellipse((x, 372, x + 14, 384), fill=(90, 60, 30))
    elif code == "shacks":
        draw.rectangle((400, 250, 610, 370), fill=(70, 120, 180), outline=(40, 60, 90), width=3)
        draw.polygon([(390, 250), (505, 200), (620, 250)], fill=(90, 140, 200))
    elif code == "sorting":
        for i, colour in enumerate(((120, 80, 50), (40, 40, 40), (200, 40, 40), (40, 90, 190))):
            x = 410 + i * 55
            draw.rectangle((x, 300, x + 45, 370), fill=colour)
        for x, y in ((395, 360), (430, 375), (470, 368), (520, 380)):
            draw.ellipse((x, y - 20, x + 45, y + 10), fill=(120, 120, 120))
    elif code == "other":
        draw.polygon([(400, 370), (640, 370), (640, 420), (400, 420)], fill=(230, 200, 40))
        draw.rectangle((430, 320, 600, 380), fill=(180, 30, 30))
        for x in (60, 130, 260):
            draw.rectangle((x, 250, x + 40, 285), fill=(250, 250, 250), outline=(200, 0, 0))
    else:  # done: planters where the trouble was
        for x in (420, 500, 580):
            draw.rectangle((x - 25, 330, x + 25, 370), fill=(140, 90, 50))
            draw.ellipse((x - 35, 280, x + 35, 340), fill=(60, 150, 70))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=72)
    return out.getvalue()
