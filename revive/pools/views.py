"""Industry pools and roadshows (blueprints "pools" and "roadshows").

/pools/                         the pools with their counts (staff, regulator)
/pools/new, /pools/<id>/edit    define a pool (staff); saving queues a ranking
/pools/<id>                     a pool: members (待确认 / 已纳入 / 已排除, demands) with the
                                ranking's reasons, universities, funnel, tiers, charts
/pools/<id>/rank                POST: rank again (staff)
/pools/<id>/members             POST: include / exclude ticked members (staff)
/pools/<id>/export.<fmt>        the pool's patents (and demands) as .xlsx / .csv
/roadshows/…                    路演推介: list, new (for a pool or a tier), detail, print page,
                                .xlsx hand-out, invite the attending enterprises to evaluate

A top layer: reads the dashboard's funnel and charts. Staff = platform admin and officers;
the regulator reads everything (no writes); universities and enterprises have no pool pages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from revive.accounts.permissions import roles_required
from revive.clock import local_today
from revive.common.downloads import send_stream
from revive.common.spreadsheets import XLSX_MIMETYPE, xlsx_chunks
from revive.dashboard import charts, funnel
from revive.errors import ConflictError, ValidationFailed
from revive.evaluations.tiers import TIER_LABELS, Tier
from revive.exports.views import export_response
from revive.inventory.models import Patent
from revive.matching.highlight import highlight
from revive.pools import export, queries, roadshows, services
from revive.pools.models import IndustryMode, PoolRunKind
from revive.pools.services import READ_ROLES, STAFF_ROLES
from revive.web import int_arg, version_arg

bp = Blueprint("pools", __name__, url_prefix="/pools")
roadshow_bp = Blueprint("roadshows", __name__, url_prefix="/roadshows")


def _is_staff() -> bool:
    return current_user.role in STAFF_ROLES


# ---------------------------------------------------------------------------- pools


@bp.get("/")
@roles_required(*READ_ROLES)
def index():
    return render_template("pools/index.html", items=queries.summaries(), staff=_is_staff())


def _form_values(pool: Any = None) -> dict[str, Any]:
    if request.method == "POST":
        return request.form.to_dict()
    if pool is None:
        return {"industry_mode": ""}
    return {
        "name": pool.name,
        "description": pool.description,
        "key_terms": pool.key_terms,
        "industry_codes": ", ".join(pool.codes),
        "industry_mode": pool.industry_mode.value,
        "bar": "" if pool.bar is None else f"{pool.bar:g}",
        "version": pool.version,
    }


def _render_form(pool: Any, error: ValidationFailed | None = None, status: int = 200):
    return (
        render_template(
            "pools/form.html",
            pool=pool,
            values=_form_values(pool),
            error=error,
            modes=list(IndustryMode),
            default_bar=services.bar_of(pool) if pool else None,
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def create():
    if request.method == "GET":
        return _render_form(None)
    try:
        pool = services.save_pool(request.form, actor=current_user)
    except ValidationFailed as exc:
        return _render_form(None, exc, 422)
    services.request_ranking(pool.id, actor=current_user)
    flash(f"已创建产业专利池「{pool.name}」，引擎正在排序候选专利和需求", "success")
    return redirect(url_for("pools.detail", pool_id=pool.id))


@bp.route("/<int:pool_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def edit(pool_id: int):
    pool = services.get_pool(pool_id)
    if request.method == "GET":
        return _render_form(pool)
    try:
        services.save_pool(
            request.form,
            actor=current_user,
            pool_id=pool.id,
            expected_version=version_arg(request.form.get("version")),
        )
    except (ValidationFailed, ConflictError) as exc:
        if isinstance(exc, ConflictError):
            exc = ValidationFailed(exc.message)
        return _render_form(pool, exc, 422)
    services.request_ranking(pool.id, actor=current_user)
    flash("已保存，引擎正在重新排序", "success")
    return redirect(url_for("pools.detail", pool_id=pool.id))


def _tab() -> str:
    tab = request.args.get("tab") or ""
    return tab if tab in queries.TABS else "included"


def _pool_charts(counts: funnel.Counts, tiers: dict[Tier, int], universities: list) -> list:
    cards = [charts.conversion_chart(counts)]
    tier_chart = charts.count_bars(
        "chart-pool-tiers",
        "已纳入专利的推广分层",
        "table-pool-tiers",
        [(f"{t.value} {t.label}", n) for t, n in tiers.items()],
        "专利数",
    )
    uni_chart = charts.count_bars(
        "chart-pool-universities",
        "已纳入专利的高校分布",
        "table-pool-universities",
        [(name, n) for _id, name, _region, n in universities],
        "专利数",
    )
    return [c for c in (*cards, tier_chart, uni_chart) if c]


@bp.get("/<int:pool_id>")
@roles_required(*READ_ROLES)
def detail(pool_id: int):
    pool = services.get_pool(pool_id)
    tab = _tab()
    page = int_arg(request.args.get("page"), 1, minimum=1)
    if tab == "demands":
        members = queries.demand_page(pool.id, None, page)
    else:
        members = queries.patent_page(pool.id, queries.TAB_STATES[tab], page)
    counts = funnel.funnel_counts(Patent.id.in_(queries.included_patent_ids(pool.id)))
    tiers = queries.tiers(pool.id)
    universities = queries.universities(pool.id)
    return render_template(
        "pools/detail.html",
        pool=pool,
        s=queries.summary(pool),
        tab=tab,
        tabs=queries.TAB_LABELS,
        members=members,
        counts=counts,
        steps=funnel.STEPS,
        rate_name=funnel.rate_name,
        tiers=tiers,
        tier_labels=TIER_LABELS,
        universities=universities,
        charts=_pool_charts(counts, tiers, universities) if counts.inventoried else [],
        staff=_is_staff(),
        bar=services.bar_of(pool),
        highlight=highlight,
        kind_run=PoolRunKind,
    )


@bp.post("/<int:pool_id>/rank")
@roles_required(*STAFF_ROLES)
def rank(pool_id: int):
    services.request_ranking(pool_id, actor=current_user)
    flash("已提交排序任务，完成后刷新本页查看结果", "success")
    return redirect(url_for("pools.detail", pool_id=pool_id, tab="candidates"))


@bp.post("/<int:pool_id>/members")
@roles_required(*STAFF_ROLES)
def decide(pool_id: int):
    """One form: a row's own button (act=include:<id>) or the ticked rows and a decision."""
    kind = request.form.get("kind", "patent")
    act = request.form.get("act", "")
    if ":" in act:
        decision, _, one = act.partition(":")
        ids: Any = [one]
    else:
        decision, ids = request.form.get("decision", ""), request.form.getlist("member_ids")
    tab = request.form.get("tab") or ("demands" if kind == "demand" else "candidates")
    try:
        changed = services.decide_members(
            pool_id,
            kind,
            ids,
            decision,
            actor=current_user,
            comment=request.form.get("comment"),
        )
    except (ValidationFailed, ConflictError) as exc:
        flash(exc.message, "error")
    else:
        label = "纳入" if decision == "include" else "排除"
        flash(f"已{label} {len(changed)} 条", "success")
    return redirect(url_for("pools.detail", pool_id=pool_id, tab=tab))


@bp.get("/<int:pool_id>/export.<fmt>")
@roles_required(*READ_ROLES)
def export_pool(pool_id: int, fmt: str):
    """The pool's patents (every state, the state in the first column), or with
    ``what=demands`` its demands: streamed, or — a large .xlsx — built in the background
    (revive.exports)."""
    kind = export.DEMANDS if request.args.get("what") == "demands" else export.PATENTS
    return export_response(kind.name, fmt, {"pool_id": pool_id})


# ---------------------------------------------------------------------------- roadshows


@roadshow_bp.get("/")
@roles_required(*READ_ROLES)
def roadshow_list():
    items = queries.roadshows()
    return render_template("pools/roadshows.html", items=items, staff=_is_staff())


def _source_patents(pool_id: int | None, tier: Tier | None) -> list[Any]:
    if pool_id is not None:
        return queries.pool_patents_for_roadshow(pool_id, roadshows.MAX_PATENTS * 4)
    if tier is not None:
        return queries.tier_patents(tier, roadshows.MAX_PATENTS * 4)
    return []


@roadshow_bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def roadshow_new():
    source = request.form if request.method == "POST" else request.args
    pool_id = int_arg(source.get("pool_id"))
    letter = str(source.get("tier") or "").upper()
    tier = Tier(letter) if letter in {t.value for t in Tier} else None
    error = None
    if request.method == "POST":
        try:
            roadshow = roadshows.create_roadshow(
                request.form,
                request.form.getlist("patent_ids"),
                request.form.getlist("enterprise_ids"),
                actor=current_user,
            )
        except roadshows.DuplicateRoadshow as same:
            flash(same.message, "info")
            return redirect(url_for("roadshows.roadshow_detail", roadshow_id=same.roadshow_id))
        except ValidationFailed as exc:
            error = exc
        else:
            flash("已登记路演，可打印路演材料或邀请参会企业评价", "success")
            return redirect(url_for("roadshows.roadshow_detail", roadshow_id=roadshow.id))
    pool = services.get_pool(pool_id) if pool_id is not None else None
    return (
        render_template(
            "pools/roadshow_form.html",
            pool=pool,
            tier=tier,
            tiers=list(Tier),
            pools=queries.pool_choices(),
            patents=_source_patents(pool.id if pool else None, tier),
            enterprises=queries.enterprises(),
            values=request.form if request.method == "POST" else {},
            checked=set(request.form.getlist("patent_ids")),
            checked_orgs=set(request.form.getlist("enterprise_ids")),
            error=error,
            max_patents=roadshows.MAX_PATENTS,
            today=local_today(),
        ),
        422 if error else 200,
    )


@roadshow_bp.get("/<int:roadshow_id>")
@roles_required(*READ_ROLES)
def roadshow_detail(roadshow_id: int):
    roadshow = roadshows.get_roadshow(roadshow_id)
    return render_template(
        "pools/roadshow.html",
        r=roadshow,
        sheets=export.sheets(roadshow),
        staff=_is_staff(),
        tier_labels=TIER_LABELS,
    )


@roadshow_bp.get("/<int:roadshow_id>/print")
@roles_required(*READ_ROLES)
def roadshow_print(roadshow_id: int):
    roadshow = roadshows.get_roadshow(roadshow_id)
    return render_template("pools/roadshow_print.html", r=roadshow, sheets=export.sheets(roadshow))


@roadshow_bp.get("/<int:roadshow_id>/export.xlsx")
@roles_required(*READ_ROLES)
def roadshow_xlsx(roadshow_id: int):
    roadshow = roadshows.get_roadshow(roadshow_id)
    rows = list(export.roadshow_rows(export.sheets(roadshow)))
    name = f"路演推介-{roadshow.title}-{roadshow.held_on:%Y%m%d}.xlsx"
    chunks = xlsx_chunks(export.ROADSHOW_HEADER, rows, "路演专利")
    return send_stream(chunks, XLSX_MIMETYPE, name, f"roadshow-{roadshow.id}.xlsx")


@roadshow_bp.post("/<int:roadshow_id>/invite")
@roles_required(*STAFF_ROLES)
def roadshow_invite(roadshow_id: int):
    try:
        created, existing = roadshows.invite_attendees(roadshow_id, actor=current_user)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(f"已向参会企业发出 {created} 条评价邀请（{existing} 条此前已邀请）", "success")
    return redirect(url_for("roadshows.roadshow_detail", roadshow_id=roadshow_id))
