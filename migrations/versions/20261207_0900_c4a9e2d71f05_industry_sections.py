"""industry values that name a GB/T 4754 section without its letter get the letter in front

Revision ID: c4a9e2d71f05
Revises: b81e4f6a0c3d
Create Date: 2026-12-07 09:00:00

Demands' 行业 and patents' 国民经济行业分类 are free text. Values written as a section's name
(制造业) or a 大类 number (3841 …) were grouped by the dashboards as 未标注门类代码 and listed one
by one in the officers' filter. New values are stored with the letter (common.industry
.with_section, "C 制造业"); this revision does the same to the values already stored. Data only:
the downgrade leaves them as they are (the letter is a correct reading of each).
"""

import sqlalchemy as sa
from alembic import op

from revive.common.industry import with_section

# revision identifiers, used by Alembic.
revision = "c4a9e2d71f05"
down_revision = "b81e4f6a0c3d"
branch_labels = None
depends_on = None

BATCH = 1000
COLUMNS = (("demands", "industry", 100), ("patents", "industry_code", 100))


def upgrade():
    bind = op.get_bind()
    for table_name, column, limit in COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.String))
        col = table.c[column]
        last = 0
        while True:
            rows = bind.execute(
                sa.select(table.c.id, col)
                .where(table.c.id > last, col.is_not(None))
                .order_by(table.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            changed = [
                {"_id": row_id, "_value": coded}
                for row_id, value in rows
                if (coded := with_section(value)) != value and len(coded) <= limit
            ]
            if changed:
                bind.execute(
                    table.update()
                    .where(table.c.id == sa.bindparam("_id"))
                    .values({column: sa.bindparam("_value")}),
                    changed,
                )


def downgrade():
    pass
