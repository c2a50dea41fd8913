"""demands.public_text: the description and targets without contact details; titles without

Revision ID: f7d2a8c41b96
Revises: f1a2b3c4d5e6
Create Date: 2026-12-07 17:00:00

Readers who may not see a demand's contact fields (universities, the regulator) read its
description and targets with pasted contact details hidden, but their keyword search looked in
the texts as written: a tester recovered a phone number and an e-mail address one character at
a time. Their search now looks in public_text (revive.demands.contacts.hide_contacts of the
description and targets, kept by the model on every write); this revision fills it for the
demands already stored.

A title may no longer carry contact details (it is shown on every list, notice and e-mail);
titles stored with some get them hidden here, as the pages hid them in descriptions. The
downgrade drops the column and leaves the titles as they are (the hidden details are in the
demand's own contact fields or nowhere a university should read them).
"""

import sqlalchemy as sa
from alembic import op

from revive.demands.contacts import has_contacts, hide_contacts

# revision identifiers, used by Alembic.
revision = "f7d2a8c41b96"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None

BATCH = 1000
TITLE_MAX = 300


def upgrade():
    with op.batch_alter_table("demands") as batch:
        batch.add_column(sa.Column("public_text", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    demands = sa.table(
        "demands",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("target_specs", sa.Text),
        sa.column("public_text", sa.Text),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(demands.c.id, demands.c.title, demands.c.description, demands.c.target_specs)
            .where(demands.c.id > last)
            .order_by(demands.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        bind.execute(
            demands.update()
            .where(demands.c.id == sa.bindparam("_id"))
            .values(public_text=sa.bindparam("_text"), title=sa.bindparam("_title")),
            [
                {
                    "_id": row.id,
                    "_text": "\n".join(
                        hide_contacts(p) for p in (row.description, row.target_specs) if p
                    ),
                    "_title": hide_contacts(row.title)[:TITLE_MAX]
                    if has_contacts(row.title)
                    else row.title,
                }
                for row in rows
            ],
        )


def downgrade():
    with op.batch_alter_table("demands") as batch:
        batch.drop_column("public_text")
