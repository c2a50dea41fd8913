"""``revive scale-seed``: N synthetic patents (default 1,000,000) in PostgreSQL, for the web
benchmark (``revive bench-web``) and for checking that lists and dashboards stay fast.

Everything is generated server-side with ``INSERT … SELECT … FROM generate_series`` (no rows
travel through Python), so a million patents take a few minutes, not hours:

- 60 universities (sizes skewed: the largest holds ~8x the patents of the smallest), 6–15
  colleges each, 5% of patents without a college;
- a realistic entry-status mix (草稿 15%, 待学院审核 8%, 待学校审核 6%, 退回 4%, 已入库 55%,
  不入库 7%, 建议放弃 5%) honouring the table's check constraints (已入库 is graded, reviewed
  states were submitted);
- Chinese titles composed from technical word lists, short abstracts, GB/T 4754 industry codes,
  grades, TRL, willingness, dates spread over three years;
- proportional downstream records so the funnel is not trivial: 500 enterprises, 1 demand per
  200 patents, a match for 1 in 10 entered patents, a deal for 1 in 5 matches (stages mixed,
  with stage events), a contract for 1 in 4 deals, an evaluation for 1 in 25 entered patents;
- accounts for the benchmark: a platform admin, an officer, a regulator, one admin per
  university and one enterprise user (password ``SCALE_PASSWORD``).

It refuses to run against a database that already holds patents or users unless ``--force``
(then it adds a second synthetic set next to what is there). PostgreSQL only.
"""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from revive.extensions import db

SCALE_PASSWORD = "Scale-Bench-1"
UNIVERSITIES = 60
ENTERPRISES = 500

COLLEGE_NAMES = (
    "机械工程学院",
    "材料科学与工程学院",
    "化学化工学院",
    "电气工程学院",
    "信息科学与工程学院",
    "计算机学院",
    "生命科学学院",
    "医学院",
    "药学院",
    "环境科学与工程学院",
    "土木工程学院",
    "能源与动力工程学院",
    "农学院",
    "食品科学与工程学院",
    "物理学院",
)
TITLE_HEADS = (
    "一种",
    "一种新型",
    "一种高效",
    "一种低成本",
    "一种智能",
    "一种可降解",
    "一种耐高温",
    "一种便携式",
)
TITLE_SUBJECTS = (
    "锂离子电池正极材料",
    "钠离子电池负极",
    "石墨烯复合薄膜",
    "光伏组件清洗机器人",
    "污水处理生物膜反应器",
    "农作物病虫害识别系统",
    "肿瘤靶向纳米药物载体",
    "碳纤维增强复合材料",
    "高速列车制动装置",
    "风力发电机叶片",
    "工业机器人关节减速器",
    "水稻抗旱基因",
    "医用可吸收缝合线",
    "5G天线阵列",
    "锂电池隔膜涂层",
    "氢燃料电池双极板",
    "建筑垃圾再生骨料",
    "土壤重金属修复剂",
    "茶叶深加工提取物",
    "无人机巡检图像处理方法",
    "柔性压力传感器",
    "高熵合金涂层",
    "钙钛矿太阳能电池",
    "深度学习故障诊断模型",
)
TITLE_TAILS = (
    "及其制备方法",
    "及其应用",
    "的制备工艺",
    "的检测方法",
    "及控制系统",
    "装置",
    "",
    "及其使用方法",
)
ABSTRACTS = (
    "本发明公开了一种结构简单、成本低廉的技术方案，能够显著提高生产效率并降低能耗。",
    "该方法工艺流程短，原料来源广泛，适合规模化工业生产，具有良好的产业化前景。",
    "本实用新型解决了现有设备稳定性差、维护困难的问题，使用寿命长，操作方便。",
    "所述材料具有优异的导电性和循环稳定性，可应用于新能源汽车与储能领域。",
    "通过多传感器融合与深度学习算法，实现了复杂工况下的高精度实时检测。",
)
INDUSTRY_CODES = (
    "C3841 锂离子电池制造",
    "C3825 光伏设备及元器件制造",
    "C2710 化学药品原料药制造",
    "C3340 金属制品业",
    "C3911 计算机整机制造",
    "I6510 软件开发",
    "I6520 集成电路设计",
    "A0111 稻谷种植",
    "N7721 水污染治理",
    "M7320 工程和技术研究和试验发展",
    "D4411 火力发电",
    "E4813 市政道路工程建筑",
    "C1530 精制茶加工",
    "Q8411 综合医院",
    "",
)
SEED_TABLES = ("patents", "users", "organizations")


def _sql_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[]"


def _has_data(conn: sa.Connection) -> bool:
    return any(
        conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar()
        for table in SEED_TABLES
    )


def seed(conn: sa.Connection, patents: int, *, tag: str = "", echo=print) -> dict[str, int]:
    """Insert the synthetic set on ``conn`` (PostgreSQL); returns the row counts added."""
    started = time.perf_counter()
    pw = generate_password_hash(SCALE_PASSWORD)
    params = {"pw": pw, "tag": tag}

    def run(label: str, sql: str, **extra: object) -> int:
        t0 = time.perf_counter()
        n = conn.execute(sa.text(sql), {**params, **extra}).rowcount
        echo(f"  {label}: {n:,} rows ({time.perf_counter() - t0:.1f} s)")
        return n

    counts: dict[str, int] = {}
    conn.execute(sa.text("SELECT setseed(0.42)"))
    counts["universities"] = run(
        "universities",
        """INSERT INTO organizations (name, kind, region, created_at, updated_at)
           SELECT '合成大学' || :tag || lpad(g::text, 2, '0'), 'university', '江苏省',
                  now(), now() FROM generate_series(1, :n) g""",
        n=UNIVERSITIES,
    )
    counts["enterprises"] = run(
        "enterprises",
        """INSERT INTO organizations (name, kind, credit_code, region, created_at, updated_at)
           SELECT '合成企业' || :tag || lpad(g::text, 4, '0') || '有限公司', 'enterprise',
                  NULL, '江苏省', now(), now() FROM generate_series(1, :n) g""",
        n=ENTERPRISES,
    )
    # 6–15 colleges per university, named from the list.
    counts["colleges"] = run(
        "colleges",
        f"""INSERT INTO colleges (institution_id, name)
            SELECT o.id, ({_sql_array(COLLEGE_NAMES)})[c]
            FROM organizations o
            CROSS JOIN LATERAL generate_series(1, 6 + (o.id % 10)) c
            WHERE o.name LIKE '合成大学' || :tag || '%'""",
    )
    conn.execute(
        sa.text(
            """CREATE TEMP TABLE scale_unis ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY o.id) - 1 AS k, o.id,
                      min(c.id) AS first_college, count(c.id) AS colleges
               FROM organizations o JOIN colleges c ON c.institution_id = o.id
               WHERE o.name LIKE '合成大学' || :tag || '%' GROUP BY o.id"""
        ),
        params,
    )
    counts["users"] = run(
        "users",
        """INSERT INTO users (email, name, password_hash, role, organization_id, is_active,
                              created_at, updated_at)
           SELECT 'scale-uni' || :tag || u.k || '@example.com', '学校管理员' || u.k, :pw,
                  'university_admin', u.id, true, now(), now() FROM scale_unis u
           UNION ALL
           SELECT 'scale-' || :tag || r || '@example.com', r, :pw, r, NULL, true, now(), now()
           FROM unnest(ARRAY['platform_admin', 'officer', 'regulator']) r
           UNION ALL
           SELECT 'scale-ent' || :tag || '@example.com', '企业用户', :pw, 'enterprise',
                  (SELECT min(id) FROM organizations
                   WHERE name LIKE '合成企业' || :tag || '%'), true, now(), now()""",
    )
    # Patents. r1..r6 are independent uniform draws per row; the university index is skewed
    # (u = floor(60 * r^1.6)) so a few universities hold many patents and many hold few.
    counts["patents"] = run(
        "patents",
        f"""
        INSERT INTO patents (
            institution_id, college_id, application_no, title, patent_type, patentees,
            inventors, filing_date, grant_date, legal_status, ipc_main, industry_code,
            abstract, implementation_status, transfer_willingness, transfer_modes, trl,
            value_grade, asking_price, status, status_changed_at, submitted_at, entered_at,
            version, created_at, updated_at)
        SELECT u.id,
               CASE WHEN s.r3 < 0.05 THEN NULL
                    ELSE u.first_college + floor(s.r3 * 1000)::int % u.colleges END,
               (2012 + g % 12)::text || lpad(g::text, 8, '0') || '.' || (g % 10)::text,
               ({_sql_array(TITLE_HEADS)})[1 + floor(s.r4 * 8)::int]
                 || ({_sql_array(TITLE_SUBJECTS)})[1 + floor(s.r5 * 24)::int]
                 || ({_sql_array(TITLE_TAILS)})[1 + (g % 8)],
               CASE WHEN s.r2 < 0.7 THEN 'invention' WHEN s.r2 < 0.95 THEN 'utility'
                    ELSE 'design' END,
               '合成大学' || :tag, '张三;李四', date '2012-01-01' + (g % 4000),
               CASE WHEN s.r2 < 0.8 THEN date '2014-01-01' + (g % 3500) END,
               '有效', 'H01M 4/' || (g % 90)::text,
               ({_sql_array(INDUSTRY_CODES)})[1 + floor(s.r6 * 15)::int],
               ({_sql_array(ABSTRACTS)})[1 + (g % 5)],
               'not_implemented',
               CASE WHEN st.status = 'entered' OR s.r6 < 0.6 THEN
                 (ARRAY['willing', 'conditional', 'not_now'])[1 + floor(s.r2 * 3)::int] END,
               'assignment,license',
               CASE WHEN st.status = 'entered' OR s.r5 < 0.7 THEN 1 + floor(s.r4 * 9)::int END,
               CASE WHEN st.status = 'entered' OR s.r5 < 0.6 THEN 1 + floor(s.r6 * 5)::int END,
               CASE WHEN s.r4 < 0.3 THEN round((s.r5 * 500)::numeric, 2) END,
               st.status, st.changed,
               CASE WHEN st.status IN ('draft', 'returned') THEN NULL ELSE st.changed END,
               CASE WHEN st.status = 'entered' THEN st.changed END,
               1, st.changed - interval '30 days', st.changed
        FROM generate_series(1, :n) g
        CROSS JOIN LATERAL (SELECT random() AS r1, random() AS r2, random() AS r3,
                                   random() AS r4, random() AS r5, random() AS r6,
                                   g AS gg) s
        JOIN scale_unis u ON u.k = least(floor(60 * power(s.r1, 1.6))::int, 59)
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.r2 * 100 < 15 THEN 'draft'
                        WHEN s.r2 * 100 < 23 THEN 'pending_college'
                        WHEN s.r2 * 100 < 29 THEN 'pending_school'
                        WHEN s.r2 * 100 < 33 THEN 'returned'
                        WHEN s.r2 * 100 < 88 THEN 'entered'
                        WHEN s.r2 * 100 < 95 THEN 'not_entered'
                        ELSE 'abandon' END AS status,
                   now() - (s.r3 * 1095) * interval '1 day'
                         - (s.gg % 86400) * interval '1 second' AS changed) st
        """,
        n=patents,
    )
    ent = "SELECT id FROM organizations WHERE name LIKE '合成企业' || :tag || '%'"
    counts["demands"] = run(
        "demands",
        f"""INSERT INTO demands (enterprise_id, title, description, industry, source,
                                 visibility, status, closed_at, version, created_at, updated_at)
            SELECT e.ids[1 + g % array_length(e.ids, 1)],
                   '寻求' || ({_sql_array(TITLE_SUBJECTS)})[1 + g % 24] || '相关技术',
                   '我公司希望引进成熟技术，提升产品性能。',
                   ({_sql_array(INDUSTRY_CODES)})[1 + g % 15], 'self', 'public',
                   CASE WHEN g % 5 = 0 THEN 'closed' ELSE 'open' END,
                   CASE WHEN g % 5 = 0 THEN now() END, 1,
                   now() - (g % 700) * interval '1 day', now() - (g % 700) * interval '1 day'
            FROM generate_series(1, :n) g, (SELECT array_agg(id) AS ids FROM ({ent}) x) e""",
        n=max(1, patents // 200),
    )
    # Demands of this run, numbered 0..D-1, to pair with patents.
    conn.execute(
        sa.text(
            f"""CREATE TEMP TABLE scale_demands ON COMMIT DROP AS
                SELECT row_number() OVER (ORDER BY d.id) - 1 AS k, d.id, d.enterprise_id
                FROM demands d WHERE d.enterprise_id IN ({ent})"""
        ),
        params,
    )
    conn.execute(
        sa.text(
            """CREATE TEMP TABLE scale_patents ON COMMIT DROP AS
               SELECT p.id, p.institution_id, row_number() OVER (ORDER BY p.id) AS k
               FROM patents p JOIN scale_unis u ON u.id = p.institution_id
               WHERE p.status = 'entered'"""
        )
    )
    officer = "(SELECT id FROM users WHERE email = 'scale-' || :tag || 'officer' || '@example.com')"
    counts["matches"] = run(
        "matches",
        f"""INSERT INTO matches (demand_id, patent_id, score, terms, trl_below_expectation,
                                 state, decided_by_id, decided_at, version, created_at,
                                 updated_at)
            SELECT d.id, p.id, 0.2 + (p.k % 70) / 100.0, '[]', false,
                   CASE WHEN p.k % 50 = 0 THEN 'accepted'
                        WHEN p.k % 50 = 10 THEN 'rejected' ELSE 'candidate' END,
                   CASE WHEN p.k % 50 IN (0, 10) THEN {officer} END,
                   CASE WHEN p.k % 50 IN (0, 10) THEN now() - (p.k % 60) * interval '1 day' END,
                   1, now() - interval '90 days', now() - interval '60 days'
            FROM scale_patents p
            JOIN scale_demands d ON d.k = (p.k / 10) % (SELECT count(*) FROM scale_demands)
            WHERE p.k % 10 = 0""",
    )
    counts["deals"] = run(
        "deals",
        f"""INSERT INTO deals (match_id, demand_id, patent_id, university_id, enterprise_id,
                               officer_id, stage, stage_changed_at, pushed_at, response_due_at,
                               responded_at, response, failure_reason, version, created_at,
                               updated_at)
            SELECT m.id, m.demand_id, m.patent_id, p.institution_id, d.enterprise_id,
                   {officer},
                   (ARRAY['recommended', 'contacted', 'negotiating', 'signed', 'failed'])
                     [1 + m.id % 5],
                   m.decided_at, m.decided_at, m.decided_at + interval '14 days',
                   CASE WHEN m.id % 5 <> 0 OR m.id % 2 = 0 THEN m.decided_at + interval '3 days'
                        END,
                   CASE WHEN m.id % 5 <> 0 OR m.id % 2 = 0 THEN 'interested' END,
                   CASE WHEN m.id % 5 = 4 THEN 'price' END,
                   1, m.decided_at, m.decided_at
            FROM matches m JOIN scale_patents p ON p.id = m.patent_id
            JOIN demands d ON d.id = m.demand_id
            WHERE m.state = 'accepted'""",
    )
    counts["deal_events"] = run(
        "deal events",
        """INSERT INTO deal_events (deal_id, actor_id, from_stage, to_stage, kind, created_at)
           SELECT d.id, d.officer_id, 'recommended', 'contacted', 'stage',
                  d.pushed_at + interval '5 days'
           FROM deals d JOIN scale_patents p ON p.id = d.patent_id
           WHERE d.stage <> 'recommended'""",
    )
    counts["contracts"] = run(
        "contracts",
        """INSERT INTO contracts (deal_id, kind, amount_wan, signed_on, parties, version,
                                 created_at, updated_at)
           SELECT d.id, (ARRAY['assignment', 'license', 'open_license', 'equity'])[1 + d.id % 4],
                  10 + (d.id % 300), (d.pushed_at + interval '30 days')::date,
                  '合成大学与合成企业', 1, now(), now()
           FROM deals d JOIN scale_patents p ON p.id = d.patent_id
           WHERE d.stage = 'signed'""",
    )
    counts["evaluations"] = run(
        "evaluations",
        f"""INSERT INTO evaluations (patent_id, enterprise_id, prospect_stars, intent, version,
                                     created_at, updated_at)
            SELECT p.id, e.ids[1 + p.k % array_length(e.ids, 1)], 1 + p.k % 5, 'license', 1,
                   now() - (p.k % 300) * interval '1 day', now()
            FROM scale_patents p, (SELECT array_agg(id) AS ids FROM ({ent}) x) e
            WHERE p.k % 25 = 3""",
    )
    echo(f"  total {time.perf_counter() - started:.1f} s")
    return counts


@click.command("scale-seed")
@click.option("--patents", "n_patents", default=1_000_000, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Also run when the database already holds data.")
@with_appcontext
def scale_seed_command(n_patents: int, force: bool) -> None:
    """Load N synthetic patents (+ universities, colleges, demands, deals…) into PostgreSQL."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        raise click.ClickException("scale-seed 仅支持 PostgreSQL（DATABASE_URL）")
    if n_patents < 1:
        raise click.ClickException("--patents 必须为正整数")
    with engine.begin() as conn:
        tag = ""
        if _has_data(conn):
            if not force:
                raise click.ClickException(
                    "数据库中已有数据（专利、用户或机构）：为防止混入合成数据，已停止。"
                    "确需在此库追加合成数据请加 --force"
                )
            tag = f"S{int(time.time()) % 100000}-"
        click.echo(f"Loading {n_patents:,} synthetic patents into {engine.url.database} …")
        seed(conn, n_patents, tag=tag, echo=click.echo)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        t0 = time.perf_counter()
        # VACUUM sets the visibility map (index-only scans), as autovacuum would in time.
        conn.execute(sa.text("VACUUM ANALYZE"))
        click.echo(f"  vacuum analyze: {time.perf_counter() - t0:.1f} s")
    click.echo(f"Logins: scale-{tag}platform_admin@example.com … password {SCALE_PASSWORD}")
    click.echo("Then: revive dashboard-refresh (fills the dashboard cache), revive bench-web")
