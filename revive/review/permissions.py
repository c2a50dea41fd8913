"""Who uses the review queue and who sees rejection statistics.

- the queue and decisions: platform admin and officers (``matching.permissions.STAFF_ROLES``);
- rejection statistics (page, export, API): staff and the regulator see every university (the
  regulator reads cross-university figures); a university admin only their own university's
  patents, a college admin only their college's (the same scope as the inventory lists);
  inventors and enterprises: 403;
- the patent page's rejection panel: whoever may read the statistics row of that patent, plus
  the patent's own inventors (``inventory.permissions.can_view``): the feedback is there so the
  people who wrote a weak listing can improve it. Enterprises never see it.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.inventory import permissions as inventory_permissions
from revive.inventory.models import Patent
from revive.matching.permissions import STAFF_ROLES

QUEUE_ROLES = STAFF_ROLES
ALL_UNIVERSITIES_ROLES = STAFF_ROLES | {Role.REGULATOR}
STATS_ROLES = ALL_UNIVERSITIES_ROLES | {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN}
PANEL_ROLES = STATS_ROLES | {Role.INVENTOR}


def sees_all_universities(user: User) -> bool:
    return user.is_authenticated and user.role in ALL_UNIVERSITIES_ROLES


def stats_scope_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on Patent limiting rejection statistics to what ``user`` may see."""
    if not user.is_authenticated or user.role not in STATS_ROLES:
        return sa.false()
    # University admin: own university; college admin: own college; read-all roles: all.
    return inventory_permissions.visible_patents_clause(user)


def scope_label(user: User) -> str:
    if sees_all_universities(user):
        return "全部高校"
    if user.role == Role.COLLEGE_ADMIN:
        return f"本学院（{user.college.name if user.college else '—'}）"
    return f"本校（{user.organization.name if user.organization else '—'}）"


def can_see_patent_feedback(user: User, patent: Patent) -> bool:
    """May ``user`` see the rejection reasons of this patent (the patent page panel)?"""
    return (
        user.is_authenticated
        and user.role in PANEL_ROLES
        and inventory_permissions.can_view(user, patent)
    )
