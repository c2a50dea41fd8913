"""Stored demand texts kept to the contact rules of the running release (a recovery-sweep
check, revive.queue.register_check).

``Demand.public_text`` is what a reader without contact rights searches. It is written with
the contact rules of its day; when a release finds contacts in more ways (full-width digits,
V信 …) the pages hide them at once, but the stored texts would keep what the older rules
missed, and search would find it again one character at a time. Each row records the rules'
version (``contacts.RULES_VERSION``); the sweep rewrites the rows of an older version, up to
PER_SWEEP a beat. A row of a newer version is left alone: a release still running beside a
newer one must not put back what the newer rules hide.

Only the searchable text is rewritten. A title is the enterprise's own words: the rules are
applied to titles when they are written (a title with contact details is refused), and a
sweep that rewrote stored titles silently would also rewrite the ones a newer rule takes for a
contact by mistake (VX-20000型, a security re-test). No task of its own: it is string work on
a few thousand rows, done where the sweep runs.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from revive import queue
from revive.demands.contacts import RULES_VERSION
from revive.demands.models import Demand, public_text_of
from revive.extensions import db

logger = logging.getLogger(__name__)

BATCH = 500  # rows a transaction rewrites
PER_SWEEP = 5000  # rows a beat rewrites (a manual run, ``full``: all of them)


def refresh_public_texts(full: bool = False) -> list[int]:
    """Rewrite public_text of the demands stored under older rules; returns their ids."""
    done: list[int] = []
    while full or len(done) < PER_SWEEP:
        rows = db.session.execute(
            sa.select(Demand.id, Demand.version, Demand.description, Demand.target_specs)
            .where(Demand.public_text_rules < RULES_VERSION)
            .order_by(Demand.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            # a plain UPDATE: no mapper event, no new version (an open edit form stays
            # valid) and updated_at (what "changed" means to matching and to people) stays
            # the enterprise's. Only if the row is as read: an edit since wrote its text anew.
            db.session.execute(
                sa.update(Demand)
                .where(Demand.id == row.id, Demand.version == row.version)
                .values(
                    public_text=public_text_of(row.description, row.target_specs),
                    public_text_rules=RULES_VERSION,
                    updated_at=Demand.updated_at,
                )
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        done.extend(row.id for row in rows)
    if done:
        logger.info("Demand texts rewritten to the contact rules v%d: %d", RULES_VERSION, len(done))
    return done


queue.register_check("demands.public_text", refresh_public_texts)
