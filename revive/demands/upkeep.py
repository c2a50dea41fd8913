"""Stored demand texts kept to the contact rules of the running release (a recovery-sweep
check, revive.queue.register_check).

``Demand.public_text`` is what a reader without contact rights searches. It is written with
the contact rules of its day; when a release finds contacts in more ways (full-width digits,
V信 …) the pages hide them at once, but the stored texts would keep what the older rules
missed, and search would find it again one character at a time. Each row records the rules'
fingerprint (``contacts.RULES``); the sweep rewrites the rows of another fingerprint, a batch a
beat, and hides contacts the new rules find in their titles (shown on every list, notice and
e-mail; a title may not carry contacts). No task of its own: it is string work on a few
hundred rows, done where the sweep runs.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from revive import queue
from revive.demands.contacts import RULES, has_contacts, hide_contacts
from revive.demands.models import TITLE_MAX, Demand, public_text_of
from revive.extensions import db

logger = logging.getLogger(__name__)

BATCH = 500  # rows a sweep rewrites (a manual run, ``full``: every batch)


def refresh_public_texts(full: bool = False) -> list[int]:
    """Rewrite public_text (and contacts in titles) of the demands stored under other rules;
    returns their ids."""
    done: list[int] = []
    while True:
        rows = db.session.execute(
            sa.select(Demand.id, Demand.title, Demand.description, Demand.target_specs)
            .where(Demand.public_text_rules != RULES)
            .order_by(Demand.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            values = {
                "public_text": public_text_of(row.description, row.target_specs),
                "public_text_rules": RULES,
                "updated_at": Demand.updated_at,
            }
            if has_contacts(row.title):
                values["title"] = hide_contacts(row.title)[:TITLE_MAX]
            # a plain UPDATE: no mapper event, and updated_at (what "changed" means to matching
            # and to people) stays the enterprise's
            db.session.execute(sa.update(Demand).where(Demand.id == row.id).values(**values))
        db.session.commit()
        done.extend(row.id for row in rows)
        if not full:
            break
    if done:
        logger.info("Demand texts rewritten to the contact rules %s: %d", RULES, len(done))
    return done


queue.register_check("demands.public_text", refresh_public_texts)
