"""A month of demo field work in 示范县, so a supervisor's map, queue and rates show something.

Everything is written the way the phones and supervisors write it — through the records,
evidence and review services, with real (generated) JPEGs carrying EXIF GPS that the
photo pipeline reads and flags — so the demo shows what the checks really find: photos
taken far from the household, photos without a position, one photo used twice. Villages
are covered unevenly on purpose; some follow-ups and hotspot deadlines are overdue.

Runs only when the demo county has no households yet, so ``zoufang seed-demo`` stays
idempotent and never touches real data.
"""

from __future__ import annotations

import hashlib
import io
import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import ExifTags, Image, ImageDraw
from sqlalchemy import func, select

from backend.accounts import service as accounts_service
from backend.accounts.models import User
from backend.areas.models import Area
from backend.evidence import service as evidence_service
from backend.extensions import db
from backend.hotspots import service as hotspots_service
from backend.households import service as households_service
from backend.households.models import Household
from backend.records import writes as records_service
from backend.visits import service as visits_service

# Township cadres (包村干部) who visit the villages the demo cadre of 东岭村 does not cover,
# and the rectification teams of the townships the demo inspector does not. They are there
# to have written records; their passwords are random and never printed (an admin sets
# one through the accounts API to sign in as them).
FIELD_USERS = [
    ("demo-cadre-chengguan", "城关街道 刘包村干部", "cadre", "990101001000"),
    ("demo-cadre-dongling", "东岭镇 陈包村干部", "cadre", "990101100000"),
    ("demo-cadre-xixi", "西溪乡 赵包村干部", "cadre", "990101200000"),
    ("demo-inspector-chengguan", "城关街道整治队 孙队员", "inspector", "990101001000"),
    ("demo-inspector-xixi", "西溪乡整治队 周队员", "inspector", "990101200000"),
]
# township: who inspects its hotspots
INSPECTORS = {"990101001000": "demo-inspector-chengguan", "990101100000": "demo-inspector",
              "990101200000": "demo-inspector-xixi"}

# village: (centre lat, lon, households, share visited in the last 30 days, cadre)
VILLAGES = {
    "990101001001": (29.3021, 119.8812, 18, 0.9, "demo-cadre-chengguan"),  # 南门社区
    "990101001002": (29.3105, 119.8867, 14, 0.55, "demo-cadre-chengguan"),  # 北门社区
    "990101100201": (29.4512, 119.8871, 22, 0.8, "demo-cadre"),  # 东岭村
    "990101100202": (29.4693, 119.9102, 12, 0.4, "demo-cadre-dongling"),  # 上坞村
    "990101200201": (29.3805, 119.8004, 16, 0.65, "demo-cadre-xixi"),  # 西溪村
    "990101200202": (29.3951, 119.7803, 10, 0.2, "demo-cadre-xixi"),  # 石桥村
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["建国", "秀英", "国华", "桂兰", "志强", "玉梅", "德明", "春花", "永福", "小红", "金发", "丽娟"]
CONCERNS = [
    ("neighbourhood", "与邻居因排水沟走向发生争执"),
    ("housing_homestead", "宅基地边界不清，要求重新丈量"),
    ("labour", "在外务工被拖欠工资三个月"),
    ("land_requisition", "征地补偿款分配有异议"),
    ("marriage_family", "赡养老人问题兄弟间有矛盾"),
    ("property_management", "小区物业收费不透明"),
]
SUMMARIES = ["入户走访，了解家庭近况，无新增矛盾。", "户主反映的问题已记录，约定下周由村调解委员会组织协商。",
             "宣传平安建设和反诈知识，发放资料一份。", "回访上次反映的问题，已基本解决，户主表示满意。"]
# (village, name, category, offset of the deadline in days, the steps it went through, inspections)
HOTSPOTS = [
    ("990101001001", "南门农贸市场周边占道经营", "market", -5, ["rectifying"], ["in_progress"]),
    ("990101001002", "北门出租房集中区", "rental_cluster", 20, [], []),
    ("990101100201", "东岭村废品收购站", "other", -10,
     ["rectifying", "acceptance_requested", "closed"], ["in_progress", "rectified"]),
    ("990101100202", "上坞村采石场运输道路", "construction_site", -3, ["rectifying"], []),
    ("990101200201", "西溪中心小学周边", "school_surroundings", 10,
     ["rectifying", "acceptance_requested", "closed", "relapsed"], ["rectified", "relapsed"]),
    ("990101200202", "石桥村娱乐场所", "entertainment_venue", -20, [], []),
]
RETURN_COMMENT = "照片位置距户址较远，请核实是否在本户拍摄并补拍门牌照片。"


@dataclass
class Photos:
    """Distinct generated JPEGs; ``reused`` keeps one to attach a second time."""

    rng: random.Random
    made: int = 0
    reused: bytes | None = None
    kept: list[bytes] = field(default_factory=list)

    def jpeg(self, lat: float | None, lon: float | None, taken: datetime) -> bytes:
        self.made += 1
        image = Image.new("RGB", (480, 360), tuple(self.rng.randrange(90, 200) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(12):  # shapes, so that no two photos look alike to the perceptual hash
            x, y = self.rng.randrange(480), self.rng.randrange(360)
            colour = tuple(self.rng.randrange(256) for _ in range(3))
            draw.rectangle((x, y, x + self.rng.randrange(40, 200), y + self.rng.randrange(30, 150)), fill=colour)
        exif = Image.Exif()
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "HUAWEI", "nova 9"
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = taken.strftime("%z")[:3] + ":00"
        if lat is not None and lon is not None:
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
            gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", _dms(lat)
            gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", _dms(lon)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80, exif=exif)
        return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return (degrees, minutes, round(((value - degrees) * 60 - minutes) * 60, 4))


def seed_demo_records(county: str, *, seed: int = 2026) -> int:
    """Write the demo month if the county has no households; the number of visits written."""
    county_area = db.session.get(Area, county)
    households = select(func.count()).select_from(Household).join(Area, Area.code == Household.area_code)
    if county_area is None or db.session.scalar(households.where(Area.path.startswith(county_area.path))):
        return 0
    rng = random.Random(seed)
    users = _field_users()
    users.update({user.username: user for user in db.session.scalars(
        select(User).where(User.username.in_(("demo-cadre", "demo-inspector", "demo-supervisor"))))})
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    now = datetime.now(zone).replace(second=0, microsecond=0)
    photos = Photos(rng)
    visits = 0
    for village, (lat, lon, count, share, cadre) in VILLAGES.items():
        visits += _village(rng, photos, users[cadre], users["demo-supervisor"], village, lat, lon, count, share, now)
    for village, name, category, due_in, steps, results in HOTSPOTS:
        _hotspot(rng, photos, users, village, name, category, now, due_in, steps, results)
    return visits


def _field_users() -> dict[str, User]:
    found = {}
    for username, display_name, role, area_code in FIELD_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts_service.create_user(actor=None, username=username, password=secrets.token_urlsafe(18),
                                                roles=[role], area_code=area_code, display_name=display_name)
        found[username] = user
    return found


def _village(rng: random.Random, photos: Photos, cadre: User, supervisor: User, village: str, lat: float,
             lon: float, count: int, share: float, now: datetime) -> int:
    writer = records_service.rest_writer(cadre)
    written = 0
    for number in range(count):
        household_id = uuid.uuid4()
        spot = (lat + rng.uniform(-0.003, 0.003), lon + rng.uniform(-0.003, 0.003))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        records_service.create(households_service.SPEC, actor=cadre, writer=writer, record_id=household_id,
                               fields=records_service.clean(households_service.SPEC, {
                                   "area_code": village, "address": f"{number // 6 + 1}组{number + 1}号",
                                   "head_name": name, "lat": spot[0], "lon": spot[1],
                                   "phone": f"13{rng.randrange(10**9):09d}"}))
        if rng.random() >= share:
            continue
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            written += 1
            _visit(rng, photos, cadre, supervisor, village, household_id, spot, now, written)
    return written


def _visit(rng: random.Random, photos: Photos, cadre: User, supervisor: User, village: str,
           household_id: uuid.UUID, spot: tuple[float, float], now: datetime, nth: int) -> None:
    visit_id = uuid.uuid4()
    when = now - timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 6), minutes=rng.randint(0, 59))
    fix = (spot[0] + rng.uniform(-0.0002, 0.0002), spot[1] + rng.uniform(-0.0002, 0.0002))
    picked = rng.sample(CONCERNS, rng.choice((0, 0, 1, 2)))
    concerns = [{"category": code, "description": text} for code, text in picked]
    follow_up = None
    if concerns and rng.random() < 0.5:
        follow_up = (when + timedelta(days=rng.choice((3, 7, 14)))).date().isoformat()
    record = records_service.create(visits_service.SPEC, actor=cadre, writer=records_service.rest_writer(cadre),
                                    record_id=visit_id, fields=records_service.clean(visits_service.SPEC, {
                                        "area_code": village, "household_id": str(household_id),
                                        "kind": "household", "visited_at": when.isoformat(), "lat": fix[0],
                                        "lon": fix[1], "accuracy_m": round(rng.uniform(5, 25), 1),
                                        "summary": rng.choice(SUMMARIES), "concerns": concerns,
                                        "satisfaction": rng.choice((3, 4, 5, 5)), "follow_up_due": follow_up}))
    if nth % 2 == 0:
        return  # half the visits without a photo
    # Most photos are taken at the door; every fifth ~2 km away, every seventh without a
    # position, one is the same file as an earlier visit's.
    position: tuple[float | None, float | None] = (fix[0] + rng.uniform(-0.0001, 0.0001), fix[1])
    if nth % 5 == 0:
        position = (spot[0] + 0.018, spot[1])
    elif nth % 7 == 0:
        position = (None, None)
    data = photos.jpeg(*position, when - timedelta(minutes=rng.randint(1, 20)))
    if photos.reused is None and nth > 10:
        photos.reused = data
    elif photos.reused is not None and nth % 11 == 0:
        data = photos.reused
    _photo(cadre, "visit", visit_id, data, when, fix)
    if nth % 5 == 0 and rng.random() < 0.5:
        records_service.review(visits_service.SPEC, actor=supervisor, writer=records_service.rest_writer(supervisor),
                               record_id=visit_id, base_version=record.version, review_status="returned",
                               review_comment=RETURN_COMMENT)
    elif nth % 5 and rng.random() < 0.4 and when < now - timedelta(days=3):
        records_service.review(visits_service.SPEC, actor=supervisor, writer=records_service.rest_writer(supervisor),
                               record_id=visit_id, base_version=record.version, review_status="approved",
                               review_comment=None)


def _photo(actor: User, record_type: str, record_id: uuid.UUID, data: bytes, when: datetime,
           fix: tuple[float, float], phase: str | None = None) -> None:
    photo_id = uuid.uuid4()
    fields = {"record_type": record_type, "record_id": str(record_id), "sha256": hashlib.sha256(data).hexdigest(),
              "bytes": len(data), "captured_at": when.isoformat(), "lat": fix[0], "lon": fix[1], "accuracy_m": 10.0}
    if phase:
        fields["phase"] = phase
    photo = evidence_service.attach(actor=actor, writer=records_service.rest_writer(actor), photo_id=photo_id,
                                    fields=records_service.clean(evidence_service.PHOTO, fields))
    db.session.flush()
    evidence_service.ingest(actor=actor, photo=photo, data=data)


def _hotspot(rng: random.Random, photos: Photos, users: dict[str, User], village: str, name: str, category: str,
             now: datetime, due_in: int, steps: list[str], results: list[str]) -> None:
    author = users[INSPECTORS[village[:9] + "000"]]
    supervisor = users["demo-supervisor"]
    lat, lon = VILLAGES[village][:2]
    spot = (lat + rng.uniform(-0.002, 0.002), lon + rng.uniform(-0.002, 0.002))
    hotspot_id = uuid.uuid4()
    record = records_service.create(hotspots_service.HOTSPOT, actor=author, writer=records_service.rest_writer(author),
                                    record_id=hotspot_id, fields=records_service.clean(hotspots_service.HOTSPOT, {
                                        "area_code": village, "name": name, "category": category,
                                        "lat": spot[0], "lon": spot[1], "radius_m": 80,
                                        "risk_level": rng.choice(("high", "medium", "low")),
                                        "deadline": (now + timedelta(days=due_in)).date().isoformat()}))
    for number, result in enumerate(results):
        inspection_id = uuid.uuid4()
        when = now - timedelta(days=12 - 4 * number, hours=rng.randint(0, 5))
        records_service.create(hotspots_service.INSPECTION, actor=author, writer=records_service.rest_writer(author),
                               record_id=inspection_id, fields=records_service.clean(hotspots_service.INSPECTION, {
                                   "hotspot_id": str(hotspot_id),
                                   "inspected_at": when.isoformat(), "lat": spot[0], "lon": spot[1],
                                   "accuracy_m": 12.0, "findings": "现场检查：" + name,
                                   "measures": "责令限期整改，落实专人看守。", "result": result}))
        _photo(author, "inspection", inspection_id, photos.jpeg(*spot, when - timedelta(minutes=5)), when, spot,
               phase="after" if result == "rectified" else "before")
    for status in steps:
        actor = supervisor if status == "closed" else author
        outcome = records_service.update(hotspots_service.HOTSPOT, actor=actor,
                                         writer=records_service.rest_writer(actor), record_id=hotspot_id,
                                         fields=records_service.clean(hotspots_service.HOTSPOT, {"status": status}),
                                         base_version=record.version, strict=True)
        record = outcome.record or record
