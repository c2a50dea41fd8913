"""Load the demo: fictional universities, colleges, users of every role and ~300 patents,
the enterprises' demands, and the matchmaking story played on the engine's matches.

Everything is generated deterministically from ``revive.demo.catalog`` with seeded
``random.Random`` instances, so running the seed again produces the same specs; rows are looked
up by organization name, college name, e-mail and application number and only missing ones are
created. Workflow states are reached through ``inventory.workflow.transition`` so every patent
carries the same StatusChange audit trail (and inbox notices) a real review would leave; each
step runs with the clock held at its moment in the past (``_history``, ``revive.clock``), so the
rows and texts it writes carry that date — nothing is re-dated afterwards. The matching runs
in-process (``revive.demo.worker``) and ``revive.demo.story`` plays reviews, deals, contracts,
evaluations and open licences through the real services, the same way.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa

from revive import clock
from revive.accounts import passwords, uscc
from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.accounts.services import get_or_create_college, get_or_create_org
from revive.audit.models import AuditEvent
from revive.clock import local_today
from revive.db import utcnow
from revive.deals.models import Contract, Deal, DealEvent, Stage
from revive.demands.models import Demand
from revive.demands.services import post_demand
from revive.demo import catalog, story, worker
from revive.demo import pools as pools_demo
from revive.demo.catalog import DOMAIN
from revive.demo.demands import DEMAND_ONLY, DEMANDS
from revive.demo.inventions import INVENTIONS, Invention
from revive.evaluations.models import Evaluation, EvaluationInvite
from revive.extensions import db
from revive.inventory import inventors, workflow
from revive.inventory.appno import make_application_no
from revive.inventory.fields import MODEL_KEYS, validate_record
from revive.inventory.models import (
    EntryStatus,
    ImplementationStatus,
    Patent,
    PatentType,
    TransferMode,
    Willingness,
)
from revive.licensing.models import OpenLicenceDeclaration
from revive.matching.models import IndexBuild, Match, MatchRun
from revive.notifications.models import Notification
from revive.pools.models import Pool, PoolPatent, Roadshow

DEMO_PASSWORD = "Revive2026"
SEED = "revive-demo-v1"

S = EntryStatus
# The inventions that answer a demo demand (the first of its demo.demands ``answered_by``):
# their patents are entered into the pool, so the matchmaking story has them to push.
FEATURED = frozenset(d["answered_by"][0] for d in DEMANDS if d["answered_by"])
# Share of patents per workflow state: most of a reviewed inventory ends up in the pool.
STATUS_WEIGHTS = {
    S.DRAFT: 8,
    S.PENDING_COLLEGE: 10,
    S.PENDING_SCHOOL: 12,
    S.RETURNED: 8,
    S.ENTERED: 42,
    S.NOT_ENTERED: 12,
    S.ABANDON: 8,
}
RETURN_COMMENTS = (
    "技术成熟度自评依据不足，请补充中试或应用数据后重新提交。",
    "技术优势描述过于学术化，请补充与现有产品相比的性能指标。",
    "发明人排序与专利证书不一致，请核对后重新提交。",
    "转化方式与意向价格未填写完整，请补充。",
)
NOT_ENTERED_COMMENTS = (
    "与学校已入库的同族专利技术方案重复，暂不单独入库。",
    "技术处于实验室原理验证阶段，近期不具备转化条件。",
    "专利权共有人对转化方式意见不一致，待协商后再行申报。",
)
ABANDON_COMMENTS = (
    "技术路线已被行业主流方案替代，建议不再缴纳年费。",
    "专利保护范围较窄，市场价值有限，建议放弃维持。",
    "多年无企业咨询且已有更优的后续专利，建议放弃。",
)
PROSPECT_TAILS = (  # indexed by maturity: lab → pilot → ready
    "目前已完成实验室验证，需与企业合作开展中试放大。",
    "已在合作企业完成小批量试用，具备产业化条件。",
    "技术成熟度较高，可通过许可方式快速实施。",
)
_DEVICE_ENDINGS = (
    "装置",
    "结构",
    "执行器",
    "系统",
    "终端",
    "阀",
    "关节",
    "幕墙",
    "保温板",
    "试纸条",
    "机器人",
    "节点",
)
_NOUNS = ("方法", "工艺", "装置", "系统", "结构")  # what "采用该…" refers to, by title ending


# ------------------------------------------------------------------------------ specs


@dataclass(frozen=True)
class UserSpec:
    email: str
    name: str
    role: Role
    org: str | None = None
    college: str | None = None


@dataclass
class PatentSpec:
    university: str
    college: str
    fields: dict
    inventor_emails: list[str]
    route: tuple[tuple[str, str | None], ...]  # (workflow action, comment) in order
    target: EntryStatus = EntryStatus.DRAFT  # where the route ends


@dataclass
class Plan:
    orgs: list[dict]
    colleges: list[tuple[str, str]]
    users: list[UserSpec]
    patents: list[PatentSpec]


def _org_code(body: str) -> str:
    """Organisation code (GB 11714): 8 characters plus a check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(ch, 36) * w for ch, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(prefix: str, division: str, org_body: str) -> str:
    """A 统一社会信用代码 with valid organisation-code and check characters."""
    first17 = prefix + division + _org_code(org_body)
    return first17 + uscc.check_character(first17)


def _email(local: str) -> str:
    return f"{local}@{DOMAIN}"


def _names(rng: random.Random, count: int, used: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(catalog.SURNAMES) + rng.choice(catalog.GIVEN_NAMES)
        if name not in used:
            used.add(name)
            names.append(name)
    return names


def build_plan() -> Plan:
    """Everything the demo contains, computed without touching the database."""
    people = random.Random(f"{SEED}-people")
    used: set[str] = set()
    orgs: list[dict] = []
    colleges: list[tuple[str, str]] = []
    users = [UserSpec(_email("admin"), "平台管理员", Role.PLATFORM_ADMIN)]
    patents: list[PatentSpec] = []
    appnos: set[str] = set()

    for uni in catalog.UNIVERSITIES:
        orgs.append(
            {
                "name": uni.name,
                "kind": OrgKind.UNIVERSITY,
                "region": uni.region,
                "credit_code": credit_code("12", uni.division, uni.org_body),
            }
        )
        (admin_name,) = _names(people, 1, used)
        users.append(
            UserSpec(_email(f"{uni.key}.admin"), admin_name, Role.UNIVERSITY_ADMIN, uni.name)
        )
        for c_index, topics in enumerate(uni.colleges, start=1):
            colleges.append((uni.name, topics.name))
            local = f"{uni.key}.c{c_index}"
            admin, *pool = _names(people, 7, used)
            users.append(UserSpec(_email(local), admin, Role.COLLEGE_ADMIN, uni.name, topics.name))
            # The first two researchers of each college have inventor accounts.
            inventor_emails = {}
            for i, name in enumerate(pool[:2], start=1):
                email = _email(f"{local}.inventor{i}")
                inventor_emails[name] = email
                users.append(UserSpec(email, name, Role.INVENTOR, uni.name, topics.name))
            rng = random.Random(f"{SEED}-{uni.key}-{c_index}")
            for subject in topics.subjects:
                for suffix in subject.suffixes:
                    patents.append(
                        _patent_spec(
                            rng, uni, topics, subject, suffix, pool, inventor_emails, appnos
                        )
                    )

    for ent in catalog.ENTERPRISES:
        orgs.append(
            {
                "name": ent.name,
                "kind": OrgKind.ENTERPRISE,
                "region": ent.region,
                "tags": ent.tags,
                "credit_code": credit_code("91", ent.division, ent.org_body),
            }
        )
        users.append(UserSpec(_email(ent.key), ent.contact, Role.ENTERPRISE, ent.name))
    orgs.append({"name": catalog.OFFICE_NAME, "kind": OrgKind.OFFICE, "region": "内蒙古自治区"})
    orgs.append(
        {"name": catalog.REGULATOR_NAME, "kind": OrgKind.REGULATOR, "region": "内蒙古自治区"}
    )
    officer, regulator = _names(people, 2, used)
    users.append(UserSpec(_email("officer"), officer, Role.OFFICER, catalog.OFFICE_NAME))
    users.append(UserSpec(_email("regulator"), regulator, Role.REGULATOR, catalog.REGULATOR_NAME))
    return Plan(orgs, colleges, users, patents)


def _abstract(
    title: str, invention: Invention, method: str, lead: str, noun: str, products: list[str]
) -> str:
    """The abstract: what the invention is and how this variant works, then what it achieves
    and where it applies — every clause from the invention's own vocabulary (demo.inventions)."""
    effect1, effect2 = invention.effects
    return (
        f"{lead}公开了{title}，{method}。"
        f"采用该{noun}，{effect1}，{effect2}，可用于{products[0]}和{products[1]}等领域。"
    )


def _bigrams(text: str, drop: tuple[str, ...]) -> set[str]:
    for term in drop:
        text = text.replace(term, "")
    han = "".join(c for c in text if "\u4e00" <= c <= "\u9fff")
    return {han[i : i + 2] for i in range(len(han) - 1)}


def _own_advantages(invention: Invention, subject: catalog.Subject, suffix: str) -> str | None:
    """技术优势 of one variant: the invention's advantage clauses less those that speak of a
    sibling variant — a clause is kept when it shares at least as many character pairs
    (the key terms aside) with this variant's title and method as with any sibling's. A
    tester read 「隐性乳房炎检出准确率超过90%」 on the 奶牛发情识别 patent, and the 强 it earned
    for a mastitis demand; a clause about no variant in particular (a cost) stays."""
    variants = [
        _bigrams(m + s, invention.terms)
        for m, s in zip(invention.methods, subject.suffixes, strict=True)
    ]
    own = subject.suffixes.index(suffix)
    kept = []
    for sentence in invention.advantages:
        clauses = []
        for clause in sentence.rstrip("。").split("，"):
            grams = _bigrams(clause, invention.terms)
            shared = [len(grams & v) for v in variants]
            if shared[own] >= max(shared):
                clauses.append(clause)
        if clauses:
            kept.append("，".join(clauses) + "。")
    return "".join(kept) or None


def _patent_spec(
    rng: random.Random,
    uni: catalog.University,
    topics: catalog.CollegeTopics,
    subject: catalog.Subject,
    suffix: str,
    pool: list[str],
    inventor_emails: dict[str, str],
    appnos: set[str],
) -> PatentSpec:
    title = f"一种{subject.subject}{suffix}"
    invention = INVENTIONS[subject.subject]
    method = invention.methods[subject.suffixes.index(suffix)]
    is_device = suffix.endswith(_DEVICE_ENDINGS)
    is_utility = is_device and rng.random() < 0.4
    lead = "本实用新型" if is_utility else "本发明"  # how the document names itself
    noun = next((n for n in _NOUNS if suffix.endswith(n)), "装置" if is_device else "技术方案")
    year = rng.choice(
        (2014, 2015, 2016, 2017, 2018, 2018, 2019, 2019, 2020, 2020, 2021, 2022, 2023)
    )
    while True:
        appno = make_application_no(year, 2 if is_utility else 1, rng.randrange(100_000, 1_500_000))
        if appno not in appnos:
            appnos.add(appno)
            break
    filed = date(year, rng.randint(1, 12), rng.randint(1, 28))
    granted = filed + timedelta(
        days=rng.randint(180, 360) if is_utility else rng.randint(600, 1100)
    )

    inventors = [rng.choice(pool)]
    inventors += rng.sample([p for p in pool if p != inventors[0]], rng.randint(1, 3))
    # Now and then co-owned with an enterprise of the invention's industry (if there is one:
    # then about one in four, as joint university–enterprise patents are common there).
    partners = [e for e in catalog.ENTERPRISES if e.co_owns and catalog.fits(e, subject.industry)]
    co_owner = rng.random() < 0.25 and bool(partners)
    patentees = uni.name + (f"；{rng.choice(partners).name}" if co_owner else "")
    other_ipc = rng.choice(topics.subjects).ipc
    target = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    featured = subject.subject in FEATURED
    if featured:
        target = S.ENTERED  # its university put it in the pool: an enterprise asks for it
    products = list(invention.products)
    rng.shuffle(products)

    fields = {
        "application_no": appno,
        "title": title,
        "patent_type": PatentType.UTILITY if is_utility else PatentType.INVENTION,
        "patentees": patentees,
        "inventors": "；".join(inventors),
        "contact_name": inventors[0],
        "contact_email": inventor_emails.get(inventors[0]),
        "filing_date": filed,
        "grant_date": granted,
        "legal_status": "有效",
        "ipc_main": subject.ipc,
        "ipc_all": "; ".join(dict.fromkeys((subject.ipc, other_ipc))),
        "industry_code": subject.industry,
        "emerging_industry": topics.emerging,
        "tech_field": topics.field,
        "abstract": _abstract(title, invention, method, lead, noun, products),
        "problem_solved": f"{invention.problem}{lead}提供{title}，{invention.effects[0]}。",
        "advantages": _own_advantages(invention, subject, suffix),
        "is_funded": rng.random() < 0.85,
        "partner_companies": patentees.split("；")[1] if co_owner else None,
    }
    fields.update(_self_assessment(rng, target, products, featured=featured))
    return PatentSpec(
        university=uni.name,
        college=topics.name,
        fields=as_imported(fields),
        inventor_emails=[inventor_emails[n] for n in inventors if n in inventor_emails],
        route=_route(rng, target),
        target=target,
    )


def as_imported(fields: dict) -> dict:
    """The record as the import would store it (``fields.validate_record``): the demo obeys
    the import rules, so an export of it re-imports with nothing changed and nothing invalid.
    A spec breaking a rule is a bug in this module, raised at once."""
    result = validate_record(fields)
    if not result.ok:
        raise ValueError(f"demo patent {fields['application_no']}: {result.errors}")
    return {k: v for k, v in result.values.items() if k in MODEL_KEYS and v is not None}


def _self_assessment(
    rng: random.Random, target: EntryStatus, products: list[str], *, featured: bool = False
) -> dict:
    """Self-ratings are optimistic, as in real inventories; weak ones end up not entered.
    A ``featured`` invention (one a demo demand asks for) is offered for transfer."""
    if target == S.DRAFT and rng.random() < 0.5:
        return {}  # a draft still missing its self-assessment
    if target in (S.NOT_ENTERED, S.ABANDON):
        grade = rng.choice((1, 2) if target == S.ABANDON else (2, 2, 3))
        trl = rng.randint(1, 3) if target == S.ABANDON else rng.randint(2, 4)
        willingness = rng.choice((Willingness.NOT_NOW, Willingness.CONDITIONAL))
    else:
        grade = rng.choices((5, 4, 3, 2, 1), weights=(25, 35, 28, 9, 3))[0]
        trl = rng.choices(range(3, 9), weights=(10, 20, 25, 22, 15, 8))[0]
        willingness = rng.choices(
            (Willingness.WILLING, Willingness.CONDITIONAL, Willingness.NOT_NOW), weights=(65, 28, 7)
        )[0]
    modes = rng.sample(list(TransferMode), rng.randint(1, 3))
    if featured and willingness == Willingness.NOT_NOW:
        willingness = Willingness.CONDITIONAL
    if willingness == Willingness.NOT_NOW:
        modes = []  # the import rule: 暂不 names no acceptable transfer mode
    implemented = trl >= 7 and rng.random() < 0.4
    maturity = 0 if trl <= 4 else 1 if trl <= 6 else 2
    return {
        "trl": trl,
        "value_grade": grade,
        "transfer_willingness": willingness,
        "transfer_modes": ",".join(m.value for m in modes) or None,
        # 意向价格 in 万元, in steps of 5.
        "asking_price": (
            Decimal(5 * rng.randint(1, 60)) if willingness != Willingness.NOT_NOW else None
        ),
        "implementation_status": (
            rng.choice((ImplementationStatus.SELF, ImplementationStatus.LICENSED))
            if implemented
            else ImplementationStatus.NOT_IMPLEMENTED
        ),
        "prospects": f"可面向{products[0]}、{products[1]}等推广应用，{PROSPECT_TAILS[maturity]}",
    }


def _route(rng: random.Random, target: EntryStatus) -> tuple[tuple[str, str | None], ...]:
    """The workflow actions (with review comments) that lead from 草稿 to ``target``."""
    to_school = (("submit", None), ("college_approve", None))
    if target == S.DRAFT:
        return ()
    if target == S.PENDING_COLLEGE:
        return (("submit", None),)
    if target == S.PENDING_SCHOOL:
        return to_school
    if target == S.RETURNED:
        if rng.random() < 0.5:
            return (("submit", None), ("college_return", rng.choice(RETURN_COMMENTS)))
        return (*to_school, ("school_return", rng.choice(RETURN_COMMENTS)))
    if target == S.ENTERED:
        # Some entered patents were returned once and fixed, as happens in real reviews.
        detour = (("submit", None), ("college_return", rng.choice(RETURN_COMMENTS)))
        return (*(detour if rng.random() < 0.2 else ()), *to_school, ("enter", None))
    comments = NOT_ENTERED_COMMENTS if target == S.NOT_ENTERED else ABANDON_COMMENTS
    action = "not_enter" if target == S.NOT_ENTERED else "abandon"
    return (*to_school, (action, rng.choice(comments)))


# ------------------------------------------------------------------------------ loading


@dataclass(frozen=True)
class SeedSummary:
    created: dict[str, int]  # rows added by this run, per kind
    totals: dict[str, int]  # rows in the database afterwards, per kind
    users_by_role: dict[Role, int]
    patents_by_status: dict[EntryStatus, int]
    deals_by_stage: dict[Stage, int]
    seconds: float = 0.0


MODELS = {
    "organizations": Organization,
    "colleges": College,
    "users": User,
    "patents": Patent,
    "demands": Demand,
    "index_builds": IndexBuild,
    "match_runs": MatchRun,
    "matches": Match,
    "deals": Deal,
    "deal_events": DealEvent,
    "contracts": Contract,
    "evaluations": Evaluation,
    "evaluation_invites": EvaluationInvite,
    "declarations": OpenLicenceDeclaration,
    "notifications": Notification,
    "audit_events": AuditEvent,
    "pools": Pool,
    "pool_patents": PoolPatent,
    "roadshows": Roadshow,
}


def _totals() -> dict[str, int]:
    return {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for name, model in MODELS.items()
    }


def seed_demo() -> SeedSummary:
    """Create whatever part of the demo data is missing; commit once. Safe to run again."""
    started = time.monotonic()
    plan = build_plan()
    before = _totals()
    with worker.inline_queue() as queued:
        orgs = {spec["name"]: get_or_create_org(**spec) for spec in plan.orgs}
        colleges = {
            (uni, name): get_or_create_college(orgs[uni], name) for uni, name in plan.colleges
        }
        users = _load_users(plan.users, orgs, colleges)
        now = utcnow()  # the story's timeline is drawn back from here
        first_notification = story.last_notification_id()
        _load_patents(plan.patents, orgs, colleges, users, now)
        db.session.commit()
        demands = _load_demands(users, now)
        # The worker's part (tokens, index, match runs), in-process; then the matchmaking story.
        worker.pending_matching(queued)
        worker.drain(queued)
        story.play(users, demands, now, first_notification)
        worker.drain(queued)
        # The region's industry pools, ranked by the engine and curated by the officer.
        attending = [orgs[catalog.BY_KEY[k].name] for k in ("muge", "zhinong")]
        pools_demo.seed_pools(
            users[_email("officer")], attending, now, lambda: worker.drain(queued)
        )
        worker.drain(queued)

    totals = _totals()
    return SeedSummary(
        created={name: totals[name] - before[name] for name in MODELS},
        totals=totals,
        users_by_role=_count_by(User.role),
        patents_by_status=_count_by(Patent.status),
        deals_by_stage=_count_by(Deal.stage),
        seconds=time.monotonic() - started,
    )


def _count_by(column: sa.orm.InstrumentedAttribute) -> dict:
    return dict(db.session.execute(sa.select(column, sa.func.count()).group_by(column)).all())


def _load_users(
    specs: list[UserSpec],
    orgs: dict[str, Organization],
    colleges: dict[tuple[str, str], College],
) -> dict[str, User]:
    existing = {
        u.email: u
        for u in db.session.scalars(sa.select(User).where(User.email.in_([s.email for s in specs])))
    }
    # Every demo account shares one password, so one (deliberately slow) hash serves them all.
    password_hash = None
    for spec in specs:
        if spec.email in existing:
            continue
        password_hash = password_hash or passwords.hash_password(DEMO_PASSWORD)
        user = User(
            email=spec.email,
            name=spec.name,
            role=spec.role,
            password_hash=password_hash,
            organization=orgs.get(spec.org) if spec.org else None,
            college=colleges.get((spec.org, spec.college)) if spec.college else None,
        )
        db.session.add(user)
        existing[spec.email] = user
    db.session.flush()
    return existing


def _load_patents(
    specs: list[PatentSpec],
    orgs: dict[str, Organization],
    colleges: dict[tuple[str, str], College],
    users: dict[str, User],
    now: datetime,
) -> list[Patent]:
    """Create the missing patents and walk each through its review route, every step at its
    moment of ``_history`` (the clock held there); returns them."""
    present = set(
        db.session.execute(
            sa.select(Patent.institution_id, Patent.application_no).where(
                Patent.application_no.in_([s.fields["application_no"] for s in specs])
            )
        ).all()
    )
    admins = {u.organization_id: u for u in users.values() if u.role == Role.UNIVERSITY_ADMIN}
    college_admins = {u.college_id: u for u in users.values() if u.role == Role.COLLEGE_ADMIN}
    created: list[Patent] = []
    for spec in specs:
        institution = orgs[spec.university]
        if (institution.id, spec.fields["application_no"]) in present:
            continue
        college = colleges[(spec.university, spec.college)]
        inventor_users = [users[e] for e in spec.inventor_emails]
        college_admin = college_admins[college.id]
        filer = inventor_users[0] if inventor_users else college_admin
        filed, moments = _history(spec, now)
        with clock.held_at(filed):
            # Ids, not relationships: workflow.target_of reads college_id before any flush.
            patent = Patent(
                institution_id=institution.id,
                college_id=college.id,
                created_by_id=filer.id,
                status=S.DRAFT,
                **spec.fields,
            )
            db.session.add(patent)
            db.session.flush()  # the link events below name the patent
            # Inventor accounts are linked by decision, never by name (inventory.inventors):
            # the filing inventor to the record they filed, co-inventors by their college admin.
            for user in inventor_users:
                decided_by, via = (filer, "filed") if user is filer else (college_admin, "patent")
                inventors.link_account(patent, user, actor=decided_by, via=via)
        created.append(patent)
        for (action, comment), moment in zip(spec.route, moments, strict=True):
            actor = {
                "submit": filer,
                "college_approve": college_admins[college.id],
                "college_return": college_admins[college.id],
            }.get(action, admins[institution.id])
            with clock.held_at(moment):
                workflow.transition(patent, workflow.get_action(action), actor, comment)
                db.session.flush()  # stamps updated_at at the step's moment
    return created


FINAL = (S.ENTERED, S.NOT_ENTERED, S.ABANDON)
# Decisions after the campaign fall this many days before the seed: within the twelve months
# of 按月进展, and before the roadshow (14 days ago) and the universities' invitations to
# evaluate (6-14 days ago); the officer's invitations and the deals take campaign patents only.
LATE_DAYS = (20, 345)
# Inventions that answer a demo demand: their patents were entered in the campaign, so each
# deal of the story is pushed after its patent was entered.
ANSWERING = frozenset(s for d in DEMANDS for s in d["answered_by"])


def _decided_lately(spec: PatentSpec, rng: random.Random) -> bool:
    """Whether the patent's final decision came after the campaign: about half of those not
    entered or marked 建议放弃, and a third of the entered ones whose invention answers no
    demo demand (revive.demo.story leaves a candidate entered after its review undecided)."""
    if spec.target != S.ENTERED:
        return rng.random() < 0.5
    if any(s in spec.fields["title"] for s in ANSWERING):
        return False
    return rng.random() < 1 / 3


def _history(spec: PatentSpec, now: datetime) -> tuple[datetime, list[datetime]]:
    """When the patent was filed and when each step of its route happened.

    A real inventory is taken in a campaign and then kept up: most patents with a final
    decision were filed and reviewed 13–17 months ago (before the deals of revive.demo.story),
    a share were decided since, spread over the last year (``_decided_lately``: 按月进展
    counts 入库 and 建议放弃 month by month from these StatusChange rows); those still under
    review were filed in the last weeks; steps are 1–12 days apart."""
    rng = random.Random(f"{SEED}-dates-{spec.fields['application_no']}")
    gaps = [timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 6)) for _ in spec.route]
    if spec.target not in FINAL:
        idle = rng.randint(3, 40)
    elif _decided_lately(spec, rng):
        idle = rng.randint(LATE_DAYS[0], LATE_DAYS[1])
    else:
        idle = rng.randint(400, 520)
    filed = now - sum(gaps, timedelta()) - timedelta(days=idle, hours=rng.randint(1, 8))
    return filed, [filed + sum(gaps[: i + 1], timedelta()) for i in range(len(gaps))]


# ------------------------------------------------------------------------------ output


class DemoLogin(NamedTuple):
    label: str  # role
    email: str
    who: str  # organization · college · name
    shows: str  # what to look at with this account


# What each listed account shows best (tests/demo checks the seeded data backs each claim).
SHOWS = {
    "admin": "全部页面与数据",
    "hbsf.admin": "对接各阶段与答复（含逾期未答复）、合同、邀请企业评价、评价校准、开放许可",
    "hbsf.c1": "本学院专利的对接与合同、学院管理员声明的开放许可",
    "hbsf.c1.inventor1": "本人专利的入库审核记录",
    "zhinong": "对接各阶段与合同、待完成的评价邀请、收件箱提醒",
    "hengxin": "退役电池回收需求的对接、转让合同与市场评价、新推送的专利",
    "dhyy.admin": "作价入股合同、共有专利的开放许可声明、已撤回的声明",
    "officer": "审核队列、否决原因统计、对接看板与合同登记、逾期答复提醒",
    "regulator": "只读数据看板：合同与金额按月、逾期答复、未满足需求、经理人工作量",
}


def demo_logins() -> list[DemoLogin]:
    """The first demo user of every role, plus a few accounts that show particular features
    of the matchmaking story (revive.demo.story), with what each one shows."""
    listed: dict[Role | str, UserSpec] = {}
    for spec in build_plan().users:
        local = spec.email.split("@")[0]
        listed.setdefault(local if local in SHOWS else spec.role, spec)
    by_role = sorted(
        (s for s in listed.values() if s.email.split("@")[0] in SHOWS),
        key=lambda s: list(Role).index(s.role),
    )
    return [
        DemoLogin(
            spec.role.label,
            spec.email,
            " · ".join(p for p in (spec.org, spec.college, spec.name) if p),
            SHOWS[spec.email.split("@")[0]],
        )
        for spec in by_role
    ]


def _load_demands(users: dict[str, User], now: datetime) -> list[Demand]:
    """Post the demo demands (revive.demo.demands) through the service, so demand_saved fires
    as for a real post, each by the enterprise it names (a company of its industry) and at
    its moment in the story (story.posting_moment: days before the officer reviewed its
    candidates); one already posted (same enterprise and title) is left alone. Returns the
    demands in DEMANDS order."""
    posters = [users[_email(spec["enterprise"])] for spec in DEMANDS]
    existing = {tuple(r) for r in db.session.execute(sa.select(Demand.enterprise_id, Demand.title))}
    deadline = (local_today() + timedelta(days=180)).isoformat()
    for i, (spec, actor) in enumerate(zip(DEMANDS, posters, strict=True)):
        if (actor.organization_id, spec["title"]) in existing:
            continue
        fields = {k: v for k, v in spec.items() if k not in DEMAND_ONLY}
        with clock.held_at(story.posting_moment(i, now) or now):
            post_demand({**fields, "deadline": deadline, "contact_name": actor.name}, actor=actor)
    by_key = {(d.enterprise_id, d.title): d for d in db.session.scalars(sa.select(Demand))}
    return [
        by_key[(actor.organization_id, spec["title"])]
        for spec, actor in zip(DEMANDS, posters, strict=True)
    ]
