"""Browser test helpers: Playwright's ``expect`` (imported lazily, so collecting these tests
needs no playwright: the ``browser`` fixture skips or fails with the reason) and seed data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from revive.accounts.models import OrgKind, Role
from revive.inventory.models import EntryStatus, Willingness
from tests.factories import make_college, make_org, make_patent, make_user

MATCH_TIMEOUT_MS = 60_000  # first match of a fresh platform: tokenize + index build + match run


def menu_link(person: Any, name: str) -> Any:
    """The main-menu link ``name``, as a person reaches it: when it sits in a drop-down group
    (revive/navigation.py, a <details>), the group is opened first."""
    nav = person.page.locator("nav.mainnav")
    link = nav.locator("a", has_text=name).first
    group = nav.locator("details.navgroup").filter(
        has=person.page.locator("a", has_text=name)  # relative to the group
    )
    if group.count() and not group.first.evaluate("d => d.open"):
        group.first.locator("summary").click()
    return link


CROSSED_RELOADS = ("ERR_ABORTED", "Not attached to an active page")


def reload(page: Any) -> None:
    """Reload ``page`` as a person pressing F5. A page that watches a running job reloads by
    itself when the job ends (static/js/run-progress.js); when that reload and ours cross, the
    browser aborts one of them (net::ERR_ABORTED), or ours finds the document it was sent to
    already replaced (「Not attached to an active page」, seen once in CI), and the page is then
    already fresh."""
    from playwright.sync_api import Error

    try:
        page.reload()
    except Error as exc:
        if not any(crossed in str(exc) for crossed in CROSSED_RELOADS):
            raise
        page.wait_for_load_state("load")


def expect(target: Any, message: str | None = None) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target, message)


# A demand and the patent that answers it, plus patents on other subjects (they give the
# index a vocabulary and must not be proposed).
DEMAND = {
    "title": "动力电池硅碳负极循环寿命提升",
    "description": (
        "我公司量产锂离子动力电池，硅碳负极在充放电中体积膨胀，循环寿命不足 800 次。"
        "希望引进硅碳负极材料的包覆改性与制备工艺，抑制体积膨胀、提高循环寿命。"
    ),
    "target_specs": "1000 次循环后容量保持率 ≥ 85%",
    "industry": "C3841 锂离子电池制造",
    "region": "内蒙古自治区包头市",
    "budget": "300",
}
ANSWER = {
    "title": "一种锂离子电池硅碳负极材料及其包覆改性制备方法",
    "abstract": (
        "本发明公开了一种锂离子电池硅碳负极材料的制备方法，通过碳包覆改性抑制硅在充放电过程中的"
        "体积膨胀，显著提高负极材料的循环寿命和容量保持率。"
    ),
}
OTHERS = (
    {
        "title": "一种用于市政污水处理的膜生物反应器",
        "abstract": "本发明涉及污水处理技术领域，膜生物反应器去除有机污染物和氨氮，出水水质稳定。",
    },
    {
        "title": "一种基于土壤湿度传感器的智能灌溉控制系统",
        "abstract": "系统根据土壤湿度传感器数据自动控制灌溉阀门，节约农业用水，适用于干旱地区。",
    },
    {
        "title": "一种稀土永磁电机转子的散热结构",
        "abstract": "本实用新型提供一种稀土永磁电机转子散热结构，通过轴向风道降低转子温升。",
    },
)


@dataclass(frozen=True)
class Cast:
    """The people of the scenario (log in with tests.factories.PASSWORD)."""

    officer_email: str
    enterprise_email: str
    university_email: str
    university_name: str
    enterprise_name: str


def seed_cast(tag: str) -> Cast:
    """A university (one college, four 已入库 patents), an enterprise, an officer. ``tag`` keeps
    names and e-mails unique across tests sharing the live database."""
    university = make_org(f"北疆理工大学{tag}", kind=OrgKind.UNIVERSITY, region="内蒙古自治区")
    college = make_college(university, "材料科学与工程学院")
    admin = make_user(
        Role.UNIVERSITY_ADMIN, university, email=f"tto-{tag}@nkut.edu.cn", name="高校管理员"
    )
    for fields in (ANSWER, *OTHERS):
        make_patent(
            university,
            college=college,
            status=EntryStatus.ENTERED,
            transfer_willingness=Willingness.WILLING,
            **fields,
        )
    enterprise = make_org(
        f"鹿城新能源科技有限公司{tag}", kind=OrgKind.ENTERPRISE, region="内蒙古自治区"
    )
    buyer = make_user(Role.ENTERPRISE, enterprise, email=f"cto-{tag}@lucheng.cn", name="企业联系人")
    officer = make_user(Role.OFFICER, email=f"officer-{tag}@revive.cn", name="技术经理人")
    return Cast(
        officer_email=officer.email,
        enterprise_email=buyer.email,
        university_email=admin.email,
        university_name=university.name,
        enterprise_name=enterprise.name,
    )
