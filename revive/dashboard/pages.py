"""What each dashboard page shows, per role: KPIs, charts (first) and tables (below).

A page builder takes the user and the query-string arguments and returns a ``Page``. The
export route calls the same builder (``full=True``: long lists unpaginated) and writes the
table the user asked for, so a download carries exactly the numbers of the page.

Pages (``TABS``) and who may open them:

==============  ===========================================  ===============================
page            content                                      roles
==============  ===========================================  ===============================
home            inventory overview + conversion funnel;      everyone but enterprises
                per university (per college) counts by       (enterprise: own view)
                status, grade, TRL band, willingness
                (regional: one university may be chosen;
                enterprises: their demands and deals)
monthly         the last 12 months: entered, 建议放弃,        regional, university, college
                demands, pushes, answers, contracts
breakdown       funnel by university / college / industry    regional, university, college
contracts       contracts and amounts per month, kinds;      regional, university, college
                open-licence applications / declarations
overdue         deals the university has not answered        regional, university, college
unmet           open demands without an acceptable match     regional
workload        per officer: decisions, deals, overdue       regional
regions         funnel, contracts, unmet by region and pool  regional
==============  ===========================================  ===============================

Regional = platform admin, officer, regulator (read-only everywhere: dashboards never write).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import url_for

from revive.accounts.models import Role, User
from revive.clock import zone_label
from revive.dashboard import activity, charts, funnel, queries, regional, tables
from revive.dashboard.charts import ChartCard
from revive.dashboard.scope import (
    ENTERPRISE_ROLES,
    FUNNEL_ROLES,
    REGIONAL_ROLES,
    Scope,
    scope_for,
)
from revive.dashboard.tables import Table
from revive.deals.models import ContractKind
from revive.errors import NotFoundError, PermissionDenied, ValidationFailed
from revive.inventory import fees
from revive.inventory.permissions import INVENTORY_ROLES
from revive.inventory.queries import university_choices
from revive.licensing import queries as licence_queries
from revive.templating import format_rate
from revive.web import int_arg

LIST_PAGE_SIZE = 50
Args = Mapping[str, str]


@dataclass(frozen=True)
class Kpi:
    value: Any
    label: str
    sub: str | None = None
    tone: str | None = None
    href: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Choice:
    """A link of a segmented filter (e.g. 按高校 / 按学院 / 按行业)."""

    label: str
    href: str
    current: bool


@dataclass
class Page:
    tab: str
    title: str
    scope_label: str
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[ChartCard] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    definitions: list[tuple[str, str]] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    universities: list[tuple[int, str]] | None = None  # regional filter options
    university_id: int | None = None
    hidden_args: dict[str, str] = field(default_factory=dict)  # kept by the filter form
    message: str = ""
    summary: queries.DashboardSummary | None = None  # the inventory overview (home only)
    selects: list[Select] = field(default_factory=list)  # filters of the regional picture

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise NotFoundError("没有这张表")


@dataclass(frozen=True)
class Select:
    """A drop-down of a page's filter form (the regional picture: 地区, 产业专利池)."""

    name: str
    label: str
    options: list[tuple[str, str]]
    current: str | None = None
    blank: str = "全部"


@dataclass(frozen=True)
class Tab:
    key: str
    endpoint: str
    label: str
    roles: frozenset[Role]


TABS: tuple[Tab, ...] = (
    Tab("home", "dashboard.home", "概览", INVENTORY_ROLES | ENTERPRISE_ROLES),
    Tab("monthly", "dashboard.monthly", "按月进展", FUNNEL_ROLES),
    Tab("breakdown", "dashboard.breakdown", "分项对比", FUNNEL_ROLES),
    Tab("contracts", "dashboard.contracts", "合同与金额", FUNNEL_ROLES),
    Tab("overdue", "dashboard.overdue", "逾期答复", FUNNEL_ROLES),
    Tab("unmet", "dashboard.unmet", "未满足需求", REGIONAL_ROLES),
    Tab("workload", "dashboard.workload", "经理人工作量", REGIONAL_ROLES),
    Tab("regions", "dashboard.regions", "地区与产业池", REGIONAL_ROLES),
)


def tabs_for(user: User) -> list[Tab]:
    """The tabs a user may open; a single tab is not worth a tab bar (returns [])."""
    mine = [t for t in TABS if user.role in t.roles]
    return mine if len(mine) > 1 else []


def _page_number(args: Args, full: bool) -> int | None:
    """The requested page of a long list; None (every row) for an export."""
    return None if full else int_arg(args.get("page"), 1, minimum=1)


def _scope(user: User, args: Args) -> Scope:
    return scope_for(user, int_arg(args.get("university")))


def _with_filter(page: Page, scope: Scope, keep: dict[str, str] | None = None) -> Page:
    """Regional pages get the university filter."""
    if scope.is_regional:
        page.universities = university_choices()
        page.university_id = scope.university_id
        page.hidden_args = keep or {}
    return page


def _overdue_kpi(overdue: int, awaiting: int, href: str | None = None) -> Kpi:
    return Kpi(
        overdue,
        "逾期未答复",
        sub="逾期数 / 待答复数：" + format_rate(overdue, awaiting),
        tone="danger" if overdue else None,
        href=href,
    )


# ---------------------------------------------------------------------------- home


def funnel_definitions() -> list[tuple[str, str]]:
    return [(s.label, s.definition) for s in funnel.STEPS]


def home_page(user: User, args: Args, full: bool = False) -> Page:
    """Inventory overview (every inventory role) with the conversion funnel on top for the
    funnel roles; the enterprise's own demand view for enterprises. Regional roles may narrow
    it to one university (``?university=``, as on the other tabs); anyone else's argument is
    ignored (their scope is their own university or college)."""
    if user.role == Role.ENTERPRISE:
        return enterprise_page(user, args, full)
    if user.role not in FUNNEL_ROLES:  # inventors: the overview of their own patents
        summary = queries.dashboard_summary(user)
        page = Page("home", "数据看板", summary.scope_label, summary=summary)
        page.charts = charts.build_charts(summary)
        page.tables = tables.inventory_tables(summary)
        return page
    scope = _scope(user, args)
    summary = queries.dashboard_summary(user, scope.university_id if scope.is_filtered else None)
    summary.scope_label = scope.label
    page = Page("home", "数据看板", scope.label, summary=summary)
    page.charts = charts.build_charts(summary)
    counts = funnel.funnel_counts(scope.patents(), scope.whole_university)
    if page.charts:  # an empty scope shows a how-to-start message instead of charts
        page.charts.insert(0, charts.conversion_chart(counts))
    page.tables.append(tables.funnel_table(counts, scope.args()))
    page.definitions = funnel_definitions()
    awaiting, overdue = activity.overdue_counts(scope.deals())
    page.kpis.append(
        _overdue_kpi(overdue, awaiting, href=url_for("dashboard.overdue", **scope.args()))
    )
    inventory = tables.inventory_tables(summary, scope.args())
    page.tables.extend(inventory[:1])  # progress per university / college, then its mix
    mixes = queries.unit_mix(summary, scope.university_id)
    if summary.breakdown_kind and not summary.is_empty:
        page.tables.extend(tables.mix_tables(summary.breakdown_kind, mixes, scope.args()))
    page.tables.extend(inventory[1:])
    if user.role in FEE_ROLES and not summary.is_empty:
        _add_idle_cost(page, scope)
    return _with_filter(page, scope)


FEE_ROLES = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN})


def _add_idle_cost(page: Page, scope: Scope) -> None:
    """What keeping the idle patents costs a year, and what the 建议放弃 decisions save
    (inventory.fees.idle_cost): two KPIs naming their denominators, a chart, a table."""
    cost = fees.idle_cost(scope.patents())
    total = cost.total
    note = f"（{cost.reduction_note}）" if cost.reduction_note else ""
    share = f"{total.abandon_cost / total.idle_cost:.1%}" if total.idle_cost else "—"
    page.kpis.append(
        Kpi(
            f"{total.idle_cost:,.0f}",
            "闲置专利年维持费",
            sub=f"{total.idle} 件闲置专利（已授权、有效、未实施）未来 12 个月应缴年费合计{note}",
            unit="元/年",
            tone="warning" if total.idle else None,
            href=url_for("inventory.annual_fees"),
        )
    )
    page.kpis.append(
        Kpi(
            f"{total.abandon_cost:,.0f}",
            "建议放弃可节省",
            sub=f"{total.abandon} 件「建议放弃」的闲置专利的年费；"
            f"占闲置专利年维持费 {share}（{total.abandon_cost:,.0f} / {total.idle_cost:,.0f} 元）",
            unit="元/年",
            tone="success" if total.abandon else None,
        )
    )
    chart = charts.idle_cost_chart(cost)
    if chart is not None:
        page.charts.append(chart)
    page.tables.append(tables.idle_cost_table(cost))


# ---------------------------------------------------------------------------- month by month


def monthly_page(user: User, args: Args, full: bool = False) -> Page:
    """The last twelve months, month by month: what the monthly report to the provincial IP
    office needs (only contracts had per-month figures)."""
    scope = _scope(user, args)
    figs = activity.monthly_progress(
        scope.patents(), scope.deals(), with_demands=scope.level == "platform"
    )
    t = figs.total
    page = Page("monthly", "按月进展", scope.label)
    page.kpis = [
        Kpi(
            t.entered,
            "近 12 个月入库专利",
            # What the window counts: patents the school entered in these months (not every
            # patent now in the pool, which may have been entered earlier).
            sub=f"{figs.first_day:%Y-%m-%d} 至 {figs.today:%Y-%m-%d}（{zone_label()}）"
            f"学校审核通过入库的；另有 {t.abandoned} 件标记建议放弃",
        ),
        Kpi(t.pushed, "近 12 个月推送的对接", sub=f"高校答复 {t.answered} 次", tone="info"),
        Kpi(
            t.contracts,
            "近 12 个月签订合同",
            sub=f"金额 {t.amount:,.2f} 万元",
            tone="success",
        ),
    ]
    page.charts = charts.monthly_charts(figs)
    page.tables = [tables.monthly_table(figs, scope.args())]
    page.definitions = [
        ("月份", f"{zone_label()}的自然月；本月统计到今天"),
        ("入库专利", "当月学校审核通过、登记入库的专利（按审核记录的时间，每件专利每月计一次）"),
        ("建议放弃", "当月学校审核标记为「建议放弃」的专利"),
        (
            "企业发布需求",
            "当月企业（或代企业）发布的技术需求，不论现在是否仍在征集；只在全平台统计",
        ),
        ("推送的对接", "当月技术经理人审核采纳、推送给企业和高校的匹配（对接）"),
        ("高校答复", "当月高校对推送的对接作出的答复（愿意对接或暂不对接）"),
        ("签订合同", "在对接中登记、签订日期在当月的合同，与「合同与金额」页同一口径"),
    ]
    return _with_filter(page, scope)


# ---------------------------------------------------------------------------- breakdown


def breakdown_options(scope: Scope) -> list[str]:
    if scope.is_regional:
        return ["university", "college", "industry"]
    if scope.level == "university":
        return ["college", "industry"]
    return ["industry"]  # a college admin sees one college


def breakdown_by(scope: Scope, requested: str | None) -> str:
    """The grouping asked for, else the scope's first option (404 for one it does not offer)."""
    options = breakdown_options(scope)
    by = requested or options[0]
    if by not in options:
        raise NotFoundError("不支持的分组方式")
    return by


def breakdown_lines(scope: Scope, by: str) -> list[funnel.Line]:
    """The funnel of ``scope`` per university, college or industry section; by college needs
    ``scope.university_id`` (callers say so first, each in their own way)."""
    patents = scope.patents()
    if by == "university":
        return funnel.by_university(patents, only=scope.university_id)
    whole = scope.whole_university
    if by == "college":
        assert scope.university_id is not None
        return funnel.by_college(patents, scope.university_id, whole_university=whole is not None)
    return funnel.by_industry(patents, whole)


def _colleges_link(line: funnel.Line) -> str:
    return url_for("dashboard.breakdown", by="college", university=line.id)


def breakdown_page(user: User, args: Args, full: bool = False) -> Page:
    scope = _scope(user, args)
    by = breakdown_by(scope, args.get("by"))
    page = Page("breakdown", "分项对比", scope.label, definitions=funnel_definitions())
    page.choices = [
        Choice(
            f"按{tables.BREAKDOWN_UNITS[o]}",
            url_for("dashboard.breakdown", by=o, **scope.args()),
            o == by,
        )
        for o in breakdown_options(scope)
    ]
    _with_filter(page, scope, {"by": by})
    if by == "college" and scope.university_id is None:
        if full:
            raise ValidationFailed("请先选择高校")
        page.message = "按学院对比需先选择一所高校（或在「按高校」表中点击高校名称）。"
        return page
    lines = breakdown_lines(scope, by)
    chart = charts.breakdown_chart(by, lines)
    page.charts = [chart] if chart else []
    link = _colleges_link if by == "university" else None
    page.tables = [tables.breakdown_table(by, lines, scope.args(), link=link)]
    return page


# ---------------------------------------------------------------------------- contracts


def contracts_page(user: User, args: Args, full: bool = False) -> Page:
    scope = _scope(user, args)
    figs = activity.contract_figures(scope.deals())
    page = Page("contracts", "合同与金额", scope.label)
    lic = licence_queries.application_figures(scope.patents())
    in_deals = figs.count_of(ContractKind.OPEN_LICENSE)
    both = activity.open_licences_in_both(scope.deals()) if lic.signed and in_deals else 0
    page.kpis = [
        Kpi(figs.count, "合同数", sub="对接中登记的合同（按合同计数）", tone="success"),
        Kpi(f"{figs.amount:,.2f}", "合同金额", sub="合同金额合计", unit="万元", tone="success"),
        Kpi(
            lic.applications,
            "开放许可实施申请",
            sub=f"开放许可声明 {lic.declarations} 项（现行 {lic.active} 项）；"
            f"有企业申请的声明 {format_rate(lic.applied, lic.declarations)}；"
            f"通过开放许可实施申请签订 {lic.signed} 件（不计入合同数）",
            tone="info",
            href=url_for("licensing.applications_list"),
        ),
    ]
    page.charts = [
        c for c in (charts.contracts_month_chart(figs), charts.contract_kind_chart(figs)) if c
    ]
    items, info = activity.contract_rows(scope.deals(), _page_number(args, full), LIST_PAGE_SIZE)
    page.tables = [
        tables.contracts_month_table(figs, scope.args()),
        tables.contracts_kind_table(figs, scope.args(), lic.signed, both),
        tables.contracts_list_table(
            items, None if full else info, scope.args(), link_patents=user.role in INVENTORY_ROLES
        ),
    ]
    page.definitions = [
        (
            "合同",
            "在对接中登记的合同（转让、许可、开放许可、作价入股），按合同计数、按签订日期归月；"
            "其中「开放许可」是技术经理人在对接中登记的开放许可合同",
        ),
        ("金额", "合同金额（万元）之和"),
        (
            "开放许可实施申请",
            "企业按声明条件提交的开放许可实施申请（不含已撤回的申请）；分母为范围内专利的开放许可"
            "声明数（含已撤回的声明），“有企业申请的声明”指至少有一件申请的声明",
        ),
        (
            "通过开放许可实施申请签订",
            "专利权人在开放许可实施申请上登记为「已签订」的申请。它与对接中登记的开放许可合同是"
            "两种记录，互不生成：前者不计入合同数与金额（开放许可的费用是声明的标准，不在申请上"
            "登记金额），后者计入；同一企业、同一专利两处都登记的，在「合同类型」表的说明中单列",
        ),
    ]
    return _with_filter(page, scope)


# ---------------------------------------------------------------------------- overdue


def _answers_kpis(total: activity.UnitResponses) -> list[Kpi]:
    """Answers given (on time as a rate of them, late, the median days) and deals that ended
    without one: what 逾期未答复 alone does not show (a late answer leaves the overdue list)."""
    median = f"{total.median_days} 天" if total.median_days is not None else "—"
    return [
        Kpi(
            total.answered,
            "已答复",
            sub="按期答复数 / 已答复数："
            + format_rate(total.on_time, total.answered)
            + f"；逾期后答复 {total.late} 件；答复用时中位数 {median}",
            tone="warning" if total.late else None,
        ),
        Kpi(
            total.ended_unanswered,
            "未答复即未成交",
            sub="对接已结束（未成交），高校始终未答复",
            tone="danger" if total.ended_unanswered else None,
        ),
    ]


def overdue_page(user: User, args: Args, full: bool = False) -> Page:
    scope = _scope(user, args)
    deals = scope.deals()
    figs = activity.overdue_figures(
        deals,
        by_college=not scope.is_regional or scope.is_filtered,
        university_id=scope.university_id,
        college_id=scope.college_id,
    )
    items, info = activity.overdue_deals(deals, _page_number(args, full), LIST_PAGE_SIZE)
    page = Page("overdue", "逾期未答复与答复用时", scope.label)
    page.kpis = [
        Kpi(figs.awaiting, "待高校答复", sub="进行中、高校尚未答复的对接", tone="info"),
        _overdue_kpi(figs.overdue, figs.awaiting),
        *_answers_kpis(figs.total),
    ]
    page.charts = [
        c
        for c in (
            charts.count_bars(
                "chart-overdue-units",
                f"各{figs.unit}逾期未答复数",
                "table-overdue-units",
                figs.by_unit,
                "逾期数",
                color=charts.BAD,
            ),
            charts.answers_chart(figs),
        )
        if c
    ]
    page.tables = [
        tables.overdue_units_table(figs, scope.args()),
        tables.overdue_table(
            items, None if full else info, scope.args(), link_patents=user.role in INVENTORY_ROLES
        ),
    ]
    page.definitions = [
        (
            "逾期未答复",
            "对接仍在进行（已推荐 / 已接洽 / 洽谈中），高校尚未答复，且已过答复期限",
        ),
        ("待高校答复", "对接仍在进行、高校尚未答复（含未到期的），是逾期率的分母"),
        (
            "按期答复率",
            "已答复的对接中，答复时间不晚于答复期限（含技术经理人延长后的期限）的比例；"
            "分母为已答复数（不论对接现在处于哪个阶段）",
        ),
        ("逾期后答复", "过了答复期限才答复的对接：答复后不再计入逾期未答复，在这里计数"),
        ("答复用时中位数", "从推送到高校答复的天数（保留一位小数）的中位数"),
        ("未答复即未成交", "对接已标记为未成交，高校始终没有答复"),
    ]
    return _with_filter(page, scope)


# ---------------------------------------------------------------------------- unmet need


def unmet_page(user: User, args: Args, full: bool = False) -> Page:
    figs = activity.unmet_figures()
    items, info = activity.unmet_demands(_page_number(args, full), LIST_PAGE_SIZE)
    page = Page("unmet", "未满足的需求", "全平台")
    page.kpis = [
        Kpi(figs.open_demands, "征集中的需求", tone="info"),
        Kpi(
            figs.unmet,
            "未满足需求",
            sub="未满足数 / 征集中需求数：" + format_rate(figs.unmet, figs.open_demands),
            tone="danger" if figs.unmet else None,
        ),
        Kpi(
            figs.never_matched,
            "尚无匹配结果",
            sub="占未满足：" + format_rate(figs.never_matched, figs.unmet),
        ),
        Kpi(
            figs.all_rejected,
            "匹配均被否决",
            sub="占未满足：" + format_rate(figs.all_rejected, figs.unmet),
        ),
        Kpi(
            figs.below_bar,
            "仅有较弱候选",
            sub="占未满足：" + format_rate(figs.below_bar, figs.unmet),
        ),
    ]
    chart = charts.count_bars(
        "chart-unmet-industry",
        "未满足需求的行业分布",
        "table-unmet-industry",
        [(label, n) for _key, label, n in sorted(figs.by_industry, key=lambda x: -x[2])],
        "未满足需求数",
        color=charts.BAD,
    )
    page.charts = [chart] if chart else []
    page.tables = [
        tables.unmet_industry_table(figs),
        tables.unmet_table(items, None if full else info),
    ]
    page.definitions = [
        (
            "未满足需求",
            "征集中的需求，没有已采纳的匹配，也没有技术经理人待审核的候选：从未匹配到专利、"
            "匹配结果均被技术经理人否决，或只有低于推荐门槛的较弱候选（企业在需求页看到"
            "“暂无合适专利”）",
        )
    ]
    return page


# ---------------------------------------------------------------------------- workload


def workload_page(user: User, args: Args, full: bool = False) -> Page:
    figs = activity.workload()
    page = Page("workload", "技术经理人工作量", "全平台")
    page.kpis = [
        Kpi(
            figs.undecided,
            "待审核的匹配",
            sub=(
                f"涉及 {figs.demands_waiting} 条征集中的需求（未分配到个人）"
                + (f"；另有 {figs.weak} 条较弱候选，低于推荐门槛，不计入" if figs.weak else "")
            ),
            tone="warning" if figs.undecided else None,
        ),
        Kpi(sum(o.open_deals for o in figs.officers), "进行中的对接", tone="info"),
        Kpi(
            sum(o.overdue for o in figs.officers),
            "高校逾期未答复",
            tone="danger" if any(o.overdue for o in figs.officers) else None,
        ),
    ]
    chart = charts.workload_chart(figs)
    page.charts = [chart] if chart else []
    page.tables = [tables.workload_table(figs)]
    page.definitions = [
        ("决定", f"近 {activity.WORKLOAD_DAYS} 天内本人采纳或否决的匹配"),
        ("进行中的对接", "本人推送、阶段为已推荐 / 已接洽 / 洽谈中的对接"),
        ("高校逾期未答复", "其中高校尚未答复且已过答复期限的"),
    ]
    return page


# ---------------------------------------------------------------------------- regional picture


def regions_page(user: User, args: Args, full: bool = False) -> Page:
    """The funnel, contracts and unmet demands by region (盟市 / 省) and by industry pool,
    filtered by a region and a pool (unknown values are ignored)."""
    f = regional.parse_filters(args)
    keep = {k: str(v) for k, v in f.args().items()}
    page = Page("regions", "地区与产业专利池", "全平台" + (f" · {f.label}" if f.label else ""))
    page.selects = [
        Select("region", "地区", regional.region_choices(), f.region, "全部地区"),
        Select(
            "pool",
            "产业专利池",
            [(str(i), n) for i, n in regional.pool_queries.pool_choices()],
            str(f.pool.id) if f.pool else None,
            "全部产业专利池",
        ),
    ]
    by_region = regional.funnel_by_region(f)
    by_pool = regional.funnel_by_pool(f)
    contracts_region = regional.contracts_by_region(f)
    contracts_pool = regional.contracts_by_pool(f)
    unmet_region = regional.unmet_by_region(f)
    unmet_pool = regional.unmet_by_pool(f)
    total = funnel.total_of(by_region)
    contracts = sum(c.count for c in contracts_region)
    open_demands = sum(u.open_demands for u in unmet_region)
    unmet = sum(u.unmet for u in unmet_region)
    page.kpis = [
        Kpi(total.entered, "入库专利", sub="入库率（入库数 / 盘点数）：" + total.rate("entered")),
        Kpi(
            total.signed,
            "已签约专利",
            sub="占入库专利（签约数 / 入库数，不同于漏斗的签约率）："
            + format_rate(total.signed, total.entered),
        ),
        Kpi(contracts, "合同数", sub=f"金额 {sum(c.amount for c in contracts_region):,.2f} 万元"),
        Kpi(
            unmet,
            "未满足需求",
            sub="未满足数 / 征集中需求数：" + format_rate(unmet, open_demands),
            tone="danger" if unmet else None,
        ),
    ]
    page.charts = [
        c
        for c in (
            charts.breakdown_chart("region", by_region),
            charts.region_bars(
                "chart-contracts-region",
                "各地区合同数",
                "table-contracts-region",
                [(c.key, c.name, c.count) for c in contracts_region],
                "合同数",
            ),
            charts.region_bars(
                "chart-contracts-region-amount",
                "各地区合同金额（万元）",
                "table-contracts-region",
                [(c.key, c.name, float(c.amount)) for c in contracts_region],
                "金额（万元）",
            ),
            charts.region_bars(
                "chart-unmet-region",
                "各地区未满足的需求",
                "table-unmet-region",
                [(u.key, u.name, u.unmet) for u in unmet_region],
                "未满足需求数",
                bad=True,
            ),
            charts.count_bars(
                "chart-pool-entered",
                "各产业专利池已纳入的入库专利",
                "table-by-pool",
                [(line.name, line.counts.entered) for line in by_pool],
                "入库专利数",
            ),
            charts.pool_amount_chart(
                [(a.name, float(a.amount)) for a in contracts_pool.pools],
                float(contracts_pool.outside.amount) if contracts_pool.outside else None,
            ),
        )
        if c
    ]
    page.tables = [
        tables.breakdown_table("region", by_region, keep),
        tables.breakdown_table("pool", by_pool, keep),
        tables.contracts_by_table("region", contracts_region, keep),
        tables.contracts_pool_table(contracts_pool, keep),
        tables.unmet_by_table("region", unmet_region, keep),
        tables.unmet_by_table("pool", unmet_pool, keep),
    ]
    page.definitions = [
        *funnel_definitions(),
        ("地区", "高校、企业登记的所在地区：区内为盟市，区外为省（直辖市、自治区）"),
        ("产业专利池", "技术经理人确认纳入的专利与需求（引擎推荐而未确认的不计）"),
    ]
    return page


# ---------------------------------------------------------------------------- enterprise


def enterprise_page(user: User, args: Args, full: bool = False) -> Page:
    enterprise_id = user.organization_id
    if enterprise_id is None:  # the schema requires one; be safe rather than show everything
        raise NotFoundError("企业账号未关联企业")
    figs = activity.enterprise_figures(enterprise_id)
    items, info = activity.enterprise_deals(enterprise_id, _page_number(args, full), LIST_PAGE_SIZE)
    org = user.organization.name if user.organization else ""
    page = Page("home", "数据看板", org)
    page.kpis = [
        Kpi(
            figs.open_demands,
            "征集中的需求",
            sub=f"共发布 {len(figs.demands)} 条",
            href=url_for("demands.list_demands"),
        ),
        Kpi(
            figs.suggested_open,
            "机器推荐的专利",
            sub="征集中需求的强 / 中匹配，尚未经技术经理人审核",
            href=url_for("demands.list_demands"),
        ),
        Kpi(figs.pushed, "推送给我的专利", sub="技术经理人审核后推送", tone="info"),
        Kpi(
            figs.signed,
            "已签约",
            sub="签约数 / 推送数：" + format_rate(figs.signed, figs.pushed),
            tone="success",
        ),
    ]
    chart = charts.stage_chart(figs)
    page.charts = [chart] if chart else []
    page.tables = [
        tables.my_demands_table(figs),
        tables.my_deals_table(items, None if full else info),
    ]
    return page


# ---------------------------------------------------------------------------- exports


@dataclass(frozen=True)
class ExportSource:
    page: Callable[[User, Args, bool], Page]
    roles: frozenset[Role]
    args: Mapping[str, str] = field(default_factory=dict)  # fixed arguments (e.g. by=…)


EXPORTS: dict[str, ExportSource] = {
    "funnel": ExportSource(home_page, FUNNEL_ROLES),
    "idle-fees": ExportSource(home_page, FEE_ROLES),
    "inventory-breakdown": ExportSource(home_page, INVENTORY_ROLES),
    "inventory-status": ExportSource(home_page, INVENTORY_ROLES),
    "inventory-grade": ExportSource(home_page, INVENTORY_ROLES),
    "inventory-trl": ExportSource(home_page, INVENTORY_ROLES),
    "inventory-willingness": ExportSource(home_page, INVENTORY_ROLES),
    "mix-status": ExportSource(home_page, INVENTORY_ROLES),
    "mix-grade": ExportSource(home_page, INVENTORY_ROLES),
    "mix-trl": ExportSource(home_page, INVENTORY_ROLES),
    "mix-willingness": ExportSource(home_page, INVENTORY_ROLES),
    "by-university": ExportSource(breakdown_page, FUNNEL_ROLES, {"by": "university"}),
    "by-college": ExportSource(breakdown_page, FUNNEL_ROLES, {"by": "college"}),
    "by-industry": ExportSource(breakdown_page, FUNNEL_ROLES, {"by": "industry"}),
    "monthly": ExportSource(monthly_page, FUNNEL_ROLES),
    "contracts-month": ExportSource(contracts_page, FUNNEL_ROLES),
    "contracts-kind": ExportSource(contracts_page, FUNNEL_ROLES),
    "contracts": ExportSource(contracts_page, FUNNEL_ROLES),
    "overdue": ExportSource(overdue_page, FUNNEL_ROLES),
    "overdue-units": ExportSource(overdue_page, FUNNEL_ROLES),
    "unmet": ExportSource(unmet_page, REGIONAL_ROLES),
    "unmet-industry": ExportSource(unmet_page, REGIONAL_ROLES),
    "workload": ExportSource(workload_page, REGIONAL_ROLES),
    "by-region": ExportSource(regions_page, REGIONAL_ROLES),
    "by-pool": ExportSource(regions_page, REGIONAL_ROLES),
    "contracts-region": ExportSource(regions_page, REGIONAL_ROLES),
    "contracts-pool": ExportSource(regions_page, REGIONAL_ROLES),
    "unmet-region": ExportSource(regions_page, REGIONAL_ROLES),
    "unmet-pool": ExportSource(regions_page, REGIONAL_ROLES),
    "my-demands": ExportSource(enterprise_page, ENTERPRISE_ROLES),
    "my-deals": ExportSource(enterprise_page, ENTERPRISE_ROLES),
}


def export_table(user: User, key: str, args: Args) -> Table:
    """The full table ``key`` as the user's page shows it (403: role; 404: not on their page)."""
    source = EXPORTS.get(key)
    if source is None:
        raise NotFoundError("没有这张表")
    if user.role not in source.roles:
        raise PermissionDenied("您无权导出这张表")
    page = source.page(user, {**args, **source.args}, True)
    return page.table(key)
