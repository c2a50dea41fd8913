"""Locust load test of Revive: the platform's real roles doing their daily work.

    locust -f loadtest/locustfile.py --headless -u 50 -r 10 -t 3m --host http://127.0.0.1:8000

(``python -m loadtest.run`` starts the whole stack and calls this.) Every user logs in through
the real login form (CSRF token parsed from the page) with a demo account; the accounts come
from the JSON file named by LOADTEST_ACCOUNTS ({"role": [emails…]}, written by the runner from
the demo plan) or default to the accounts ``revive demo-logins`` prints. LOADTEST_PASSWORD
overrides the demo password.

Roles and weights (of 50 users: ~20 university staff, ~3 inventors, ~12 enterprises, ~9 officers,
~6 read-only dashboard users):
  UniversityStaff  inventory list with filters / search / sort / paging, patent detail pages,
                   the college review queue, dashboards, calibration
  Inventor         own patents, detail pages
  Enterprise       posts demands (the web form with its CSRF token, sometimes the JSON API),
                   reads its demand pages (the pushed matches) and the matches API, deal board,
                   evaluation to-do list, inbox, open licences
  Officer          the review queue (filters, sort; accept, or reject with a reason and a
                   comment), the deal board and deal pages, rejection statistics, demand matches
  Regulator        the read-only dashboards

A response is a failure when its status is >= 400 (unless the task expects it), when the page
is the Chinese error page (``class="card error-page"``), when a page lands on the login form
(session lost), or when a form post comes back with its validation error.

Request names start with their category — ``page``, ``post`` (form post, timed with the
redirect it follows), ``api`` — and LOADTEST_SUMMARY (a path) receives, at the end, exact
p50/p95/p99 per category and per name computed from every response time (locust's own CSV
rounds them into buckets).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOADTEST_PASSWORD", "Revive2026")
DOMAIN = "demo.revive.example"
DEFAULT_ACCOUNTS = {
    "university_admin": [f"hbsf.admin@{DOMAIN}", f"dhyy.admin@{DOMAIN}"],
    "college_admin": [f"hbsf.c1@{DOMAIN}"],
    "inventor": [f"hbsf.c1.inventor1@{DOMAIN}"],
    "enterprise": [f"zhinong@{DOMAIN}", f"hengxin@{DOMAIN}"],
    "officer": [f"officer@{DOMAIN}"],
    "platform_admin": [f"admin@{DOMAIN}"],
    "regulator": [f"regulator@{DOMAIN}"],
}

CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ERROR_PAGE = 'class="card error-page"'
LOGIN_FORM = 'autocomplete="current-password"'
PATENT_LINK = re.compile(r'href="/patents/(\d+)"')
DEMAND_LINK = re.compile(r'href="/demands/(\d+)"')
DEAL_LINK = re.compile(r'href="/deals/(\d+)"')
DECISION_FORM = re.compile(
    r'action="/review/matches/(\d+)/decision[^"]*"[^>]*>\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)">\s*'
    r'<input type="hidden" name="version" value="(\d+)">'
)

SEARCH_TERMS = [
    "电池", "材料", "方法", "装置", "检测", "传感器", "水稻", "催化", "锂", "算法",
    "图像", "纳米", "制备", "系统", "药物", "信号", "机器人", "涂层", "污水", "种植",
    "不存在的词XYZ",
]  # fmt: skip
PATENT_SORTS = ["updated_at", "application_no", "title", "grade", "trl"]
PATENT_STATUSES = ["entered", "pending_college", "pending_school", "returned", "draft"]
QUEUE_SORTS = ["newest", "score"]
REJECT_REASONS = [
    "too_early", "unclear_advantage", "no_business_path", "vague", "wrong_field",
    "too_costly", "alternative_exists", "other",
]  # fmt: skip
MODES = ["assignment", "license", "exclusive", "joint_dev", "equity"]


def _demand_texts() -> list[dict[str, str]]:
    try:
        from revive.demo.demands import DEMANDS  # plain data, no app needed
    except ImportError:  # pragma: no cover - run outside the checkout
        return [
            {"title": "高强度轻量化复合材料", "description": "寻求高强度轻量化复合材料制备技术。"}
        ]
    return [dict(d) for d in DEMANDS]


DEMAND_TEXTS = _demand_texts()


def _accounts() -> dict[str, list[str]]:
    path = os.environ.get("LOADTEST_ACCOUNTS")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            loaded = json.load(fh)
        return {**DEFAULT_ACCOUNTS, **{k: v for k, v in loaded.items() if v}}
    return DEFAULT_ACCOUNTS


ACCOUNTS = _accounts()


# ---------------------------------------------------------------------------- exact percentiles


def percentiles(values: list[float]) -> dict[str, float]:
    """count, p50/p95/p99 (nearest rank), max and mean of response times in ms."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)

    return {
        "count": len(ordered),
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": round(ordered[-1], 1),
        "mean": round(sum(ordered) / len(ordered), 1),
    }


# Seconds after the last login before the steady state begins: the backlog of the login burst
# (50 scrypt checks) drains and each web process has compiled its templates, warmed its
# statement cache and loaded the matching index.
WARMUP_SECONDS = float(os.environ.get("LOADTEST_WARMUP", "10"))


class Recorder:
    """Every request: (time, name, ms, failed). The summary has two views: the whole run, and
    the steady state — from WARMUP_SECONDS after every user has logged in to the end — which
    excludes the ramp-up, when 50 logins hash their passwords (scrypt) at once, and the warm-up.
    Failures are always counted over the whole run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[tuple[float, str, float, bool]] = []
        self.failure_samples: dict[str, str] = {}
        self.started = time.monotonic()
        self.steady_from: float | None = None
        self.logged_in = 0

    def add(self, name: str, ms: float, exc: Any) -> None:
        with self.lock:
            self.samples.append((time.monotonic(), name, ms, exc is not None))
            if exc is not None:
                self.failure_samples.setdefault(name, str(exc)[:300])

    def user_ready(self, target: int) -> None:
        with self.lock:
            self.logged_in += 1
            if self.steady_from is None and self.logged_in >= target:
                self.steady_from = time.monotonic() + WARMUP_SECONDS

    @staticmethod
    def _view(samples: list[tuple[float, str, float, bool]]) -> dict[str, Any]:
        times: dict[str, list[float]] = defaultdict(list)
        by_name: dict[str, list[float]] = defaultdict(list)
        failed: dict[str, int] = defaultdict(int)
        for _, name, ms, bad in samples:
            category = name.split(" ", 1)[0]
            for key in (category, "all"):
                times[key].append(ms)
                failed[key] += bad
            by_name[name].append(ms)
            failed["name:" + name] += bad
        return {
            "categories": {k: {**percentiles(v), "failures": failed[k]} for k, v in times.items()},
            "requests": {
                n: {**percentiles(v), "failures": failed["name:" + n]}
                for n, v in sorted(by_name.items())
            },
        }

    def summary(self) -> dict[str, Any]:
        end = time.monotonic()
        with self.lock:
            samples = list(self.samples)
            steady_from = self.steady_from or self.started
        steady = [s for s in samples if s[0] >= steady_from]
        whole, window = self._view(samples), self._view(steady)
        seconds = end - steady_from
        windows = []  # p95 of pages per 10-second window of the steady state
        t = steady_from
        while t < end:
            pages = [ms for at, n, ms, _ in steady if t <= at < t + 10 and n.startswith("page")]
            windows.append(percentiles(pages).get("p95", 0.0))
            t += 10
        return {
            # The steady-state view (what the limits apply to) ...
            "seconds": round(seconds, 1),
            "rps": round(len(steady) / seconds, 1) if seconds > 0 else 0.0,
            "ramp_up_seconds": round(steady_from - self.started, 1),
            "warmup_seconds": WARMUP_SECONDS,
            "page_p95_by_10s": windows,
            "categories": window["categories"],
            "requests": window["requests"],
            # ... and the whole run, ramp-up and logins included.
            "whole_run": {
                "seconds": round(end - self.started, 1),
                "requests_total": len(samples),
                "categories": whole["categories"],
                "failures": sum(1 for s in samples if s[3]),
            },
            "failure_samples": dict(self.failure_samples),
        }


RECORDER = Recorder()


@events.test_start.add_listener
def _on_start(environment, **_: Any) -> None:
    RECORDER.started = time.monotonic()


@events.request.add_listener
def _on_request(name: str, response_time: float, exception: Any, **_: Any) -> None:
    RECORDER.add(name, response_time, exception)


@events.test_stop.add_listener
def _on_stop(environment, **_: Any) -> None:
    path = os.environ.get("LOADTEST_SUMMARY")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(RECORDER.summary(), fh, ensure_ascii=False, indent=1)


def _target_users(user: HttpUser) -> int:
    env_value = os.environ.get("LOADTEST_USERS")
    if env_value:
        return int(env_value)
    runner = user.environment.runner
    return int(getattr(runner, "target_user_count", 0) or 1)


# ---------------------------------------------------------------------------- users


class ReviveUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)  # think time between two actions of one person
    roles: tuple[str, ...] = ()

    def on_start(self) -> None:
        pool = [e for role in self.roles for e in ACCOUNTS.get(role, [])]
        self.email = random.choice(pool)
        self.csrf = ""
        self.login()
        RECORDER.user_ready(_target_users(self))

    # -- helpers

    def login(self) -> None:
        with self.client.get("/login", name="auth GET /login", catch_response=True) as r:
            token = self._csrf_input(r.text)
            if r.status_code != 200 or not token:
                r.failure(f"login page: {r.status_code}, csrf token found: {bool(token)}")
                return
        data = {"email": self.email, "password": PASSWORD, "csrf_token": token}
        with self.client.post(
            "/login", data=data, name="auth POST /login", catch_response=True
        ) as r:
            if r.status_code >= 400 or LOGIN_FORM in r.text:
                r.failure(f"login as {self.email} failed: {r.status_code}")
            else:
                self._remember_csrf(r.text)

    @staticmethod
    def _csrf_input(text: str) -> str:
        m = CSRF_INPUT.search(text)
        return (m.group(1) or m.group(2)) if m else ""

    def _remember_csrf(self, text: str) -> None:
        m = CSRF_META.search(text)
        if m:
            self.csrf = m.group(1)

    def page(self, path: str, name: str = "", *, params: dict | None = None) -> str:
        """GET an HTML page (request name: ``name``, default the path); failure on >= 400, on
        the error page or on the login form."""
        name = f"page {name or path}"
        with self.client.get(path, params=params, name=name, catch_response=True) as r:
            text = r.text or ""
            if r.status_code >= 400:
                r.failure(f"HTTP {r.status_code}")
            elif ERROR_PAGE in text:
                r.failure("error page")
            elif LOGIN_FORM in text:
                r.failure("redirected to the login form (session lost)")
            else:
                self._remember_csrf(text)
            return text

    def form_post(self, path: str, data: dict, name: str, *, expect: tuple[str, ...] = ()) -> str:
        """POST a form (following the redirect); failure on >= 400, error page, or when the
        landing page contains none of ``expect``."""
        with self.client.post(path, data=data, name=f"post {name}", catch_response=True) as r:
            text = r.text or ""
            if r.status_code >= 400:
                r.failure(f"HTTP {r.status_code}: {_flash(text)}")
            elif ERROR_PAGE in text:
                r.failure("error page")
            elif expect and not any(e in text for e in expect):
                r.failure(f"landing page without {expect!r}: {_flash(text)}")
            else:
                self._remember_csrf(text)
            return text

    def api_get(self, path: str, name: str) -> Any:
        with self.client.get(path, name=f"api {name}", catch_response=True) as r:
            if r.status_code >= 400:
                r.failure(f"HTTP {r.status_code}")
                return None
            try:
                return r.json()
            except ValueError:
                r.failure("not JSON")
                return None

    def api_post(self, path: str, body: dict, name: str, *, status: int) -> Any:
        headers = {"X-CSRFToken": self.csrf}
        with self.client.post(
            path, json=body, headers=headers, name=f"api {name}", catch_response=True
        ) as r:
            if r.status_code != status:
                r.failure(f"HTTP {r.status_code} (expected {status}): {r.text[:200]}")
                return None
            return r.json()

    def page_of_one(self, prefix: str, ids: list[int]) -> None:
        """GET ``prefix/<one of ids>`` (named ``prefix/[id]``); nothing when ``ids`` is empty."""
        if ids:
            self.page(f"{prefix}/{random.choice(ids)}", f"{prefix}/[id]")

    def home(self) -> None:
        self.page("/", "/ (home)")


def _flash(text: str) -> str:
    m = re.search(r'class="flash[^"]*"[^>]*>([^<]{0,200})', text)
    return m.group(1).strip() if m else ""


def _linked_ids(link: re.Pattern[str], text: str, known: list[int]) -> list[int]:
    """The ids ``text`` links to, or ``known`` when it links to none."""
    return [int(i) for i in link.findall(text)] or known


class UniversityStaff(ReviveUser):
    """University and college administrators: the inventory and its review."""

    weight = 20
    roles = ("university_admin", "college_admin")

    def on_start(self) -> None:
        super().on_start()
        self.patent_ids: list[int] = []

    def _collect(self, text: str) -> None:
        self.patent_ids = _linked_ids(PATENT_LINK, text, self.patent_ids)

    @task(4)
    def inventory_list(self) -> None:
        self._collect(self.page("/patents/"))

    @task(6)
    def inventory_filtered(self) -> None:
        params: dict[str, Any] = {}
        if random.random() < 0.6:
            params["status"] = random.choice(PATENT_STATUSES)
        if random.random() < 0.3:
            params["grade"] = random.randint(1, 5)
        if random.random() < 0.3:
            params["trl"] = random.randint(1, 9)
        if random.random() < 0.2:
            params["patent_type"] = random.choice(["invention", "utility"])
        if random.random() < 0.2:
            params["willingness"] = random.choice(["willing", "conditional", "not_now"])
        params["sort"] = random.choice(PATENT_SORTS)
        params["dir"] = random.choice(["asc", "desc"])
        params["page"] = random.choice([1, 1, 1, 2, 3, 5, 10])
        self._collect(self.page("/patents/", "/patents/?filters,sort,page", params=params))

    @task(4)
    def inventory_search(self) -> None:
        params = {"q": random.choice(SEARCH_TERMS)}
        if random.random() < 0.5:
            params["status"] = "entered"
        self._collect(self.page("/patents/", "/patents/?q=", params=params))

    @task(6)
    def patent_detail(self) -> None:
        if not self.patent_ids:
            self.inventory_list()
        self.page_of_one("/patents", self.patent_ids)

    @task(2)
    def review_queue(self) -> None:
        self.page("/patents/review")

    @task(2)
    def dashboard(self) -> None:
        self.home()

    @task(1)
    def breakdown(self) -> None:
        self.page("/dashboard/breakdown")

    @task(1)
    def calibration(self) -> None:
        self.page("/evaluations/calibration")

    @task(1)
    def demands(self) -> None:
        self.page("/demands/")


class Inventor(ReviveUser):
    weight = 3
    roles = ("inventor",)

    def on_start(self) -> None:
        super().on_start()
        self.patent_ids: list[int] = []

    @task(3)
    def my_patents(self) -> None:
        self.patent_ids = _linked_ids(PATENT_LINK, self.page("/patents/"), self.patent_ids)

    @task(3)
    def patent_detail(self) -> None:
        self.page_of_one("/patents", self.patent_ids)

    @task(1)
    def dashboard(self) -> None:
        self.home()


class Enterprise(ReviveUser):
    """Enterprise users post demands and follow what the platform pushes to them."""

    weight = 12
    roles = ("enterprise",)

    def on_start(self) -> None:
        super().on_start()
        self.demand_ids: list[int] = []

    def _demand_record(self) -> dict[str, Any]:
        spec = random.choice(DEMAND_TEXTS)
        return {
            "title": f"{spec['title']}（{random.randint(1000, 9999)}）",
            "description": spec["description"],
            "industry": spec.get("industry", ""),
            "region": spec.get("region", ""),
            "budget": str(random.choice([50, 100, 200, 500])),
            "deadline": (date.today() + timedelta(days=random.randint(30, 365))).isoformat(),
            "contact_name": "联系人",
            "visibility": "public",
        }

    @task(4)
    def my_demands(self) -> None:
        self.demand_ids = _linked_ids(DEMAND_LINK, self.page("/demands/"), self.demand_ids)

    @task(2)
    def post_demand_form(self) -> None:
        text = self.page("/demands/new")
        token = self._csrf_input(text)
        if not token:
            return
        data = {**self._demand_record(), "csrf_token": token}
        data["cooperation_modes"] = random.sample(MODES, random.randint(1, 2))
        landed = self.form_post("/demands/new", data, "/demands/new", expect=("需求已发布",))
        m = re.search(r'href="/demands/(\d+)/edit"', landed)
        if m:
            self.demand_ids.append(int(m.group(1)))

    @task(1)
    def post_demand_api(self) -> None:
        if not self.csrf:
            self.my_demands()
        body = {**self._demand_record(), "cooperation_modes": random.sample(MODES, 2)}
        made = self.api_post("/api/v1/demands", body, "POST /api/v1/demands", status=201)
        if made and "id" in made:
            self.demand_ids.append(int(made["id"]))

    @task(5)
    def demand_page(self) -> None:
        if not self.demand_ids:
            self.my_demands()
        self.page_of_one("/demands", self.demand_ids)

    @task(2)
    def demand_matches_api(self) -> None:
        if self.demand_ids:
            did = random.choice(self.demand_ids)
            self.api_get(f"/api/v1/demands/{did}/matches", "/api/v1/demands/[id]/matches")

    @task(2)
    def deal_board(self) -> None:
        self.page("/deals/")

    @task(1)
    def evaluations_todo(self) -> None:
        self.page("/evaluations/todo")

    @task(1)
    def inbox(self) -> None:
        self.page("/inbox/")

    @task(1)
    def open_licences(self) -> None:
        self.page("/open-licences")

    @task(1)
    def dashboard(self) -> None:
        self.home()


class Officer(ReviveUser):
    """Technology-transfer officers (and the platform admin) work the review queue."""

    weight = 9
    roles = ("officer", "platform_admin")

    def on_start(self) -> None:
        super().on_start()
        self.deal_ids: list[int] = []
        self.demand_ids: list[int] = []

    def _decide_one(self, text: str) -> None:
        forms = DECISION_FORM.findall(text)
        if not forms:
            return
        match_id, token, version = random.choice(forms)
        if random.random() < 0.3:
            data = {"csrf_token": token, "version": version, "decision": "accepted"}
            name = "/review/matches/[id]/decision (accept)"
        else:
            data = {
                "csrf_token": token,
                "version": version,
                "decision": "rejected",
                "reason_code": random.choice(REJECT_REASONS),
                "comment": random.choice(["", "与需求领域不一致", "成熟度不足，建议后续跟进"]),
            }
            name = "/review/matches/[id]/decision (reject)"
        # Lands on the queue with a flash: success, or (another officer was faster) the
        # Chinese explanation of why nothing happened; both are correct behaviour.
        self.form_post(
            f"/review/matches/{match_id}/decision",
            data,
            name,
            expect=("已采纳", "已否决", "未能处理"),
        )

    @task(4)
    def queue(self) -> None:
        self.page("/review/")

    @task(2)
    def queue_filtered(self) -> None:
        params = {"sort": random.choice(QUEUE_SORTS)}
        if random.random() < 0.5:
            params["min_score"] = random.choice(["0.05", "0.1", "0.2"])
        if random.random() < 0.3:
            params["posted_within"] = random.choice(["7", "30"])
        self.page("/review/", "/review/?filters", params=params)

    @task(5)
    def decide(self) -> None:
        self._decide_one(self.page("/review/"))

    @task(3)
    def deal_board(self) -> None:
        self.deal_ids = _linked_ids(DEAL_LINK, self.page("/deals/"), self.deal_ids)

    @task(2)
    def deal_detail(self) -> None:
        self.page_of_one("/deals", self.deal_ids)

    @task(1)
    def rejections(self) -> None:
        self.page("/review/rejections")

    @task(1)
    def demands(self) -> None:
        self.demand_ids = _linked_ids(DEMAND_LINK, self.page("/demands/"), self.demand_ids)

    @task(1)
    def demand_matches(self) -> None:
        self.page_of_one("/matching/demands", self.demand_ids)

    @task(1)
    def dashboard(self) -> None:
        self.home()


class Regulator(ReviveUser):
    """The IP office's read-only dashboards."""

    weight = 6
    roles = ("regulator",)

    @task(3)
    def dashboard(self) -> None:
        self.home()

    @task(1)
    def breakdown(self) -> None:
        self.page("/dashboard/breakdown")

    @task(1)
    def contracts(self) -> None:
        self.page("/dashboard/contracts")

    @task(1)
    def overdue(self) -> None:
        self.page("/dashboard/overdue")

    @task(1)
    def unmet(self) -> None:
        self.page("/dashboard/unmet")

    @task(1)
    def workload(self) -> None:
        self.page("/dashboard/workload")

    @task(1)
    def promotion(self) -> None:
        self.page("/evaluations/promotion")

    @task(1)
    def patents(self) -> None:
        self.page("/patents/", params={"status": "entered"})
