"""The database itself refuses what the workflow forbids (enum values, state-dependent columns)."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from revive.extensions import db
from tests.factories import make_patent


@pytest.mark.parametrize(
    ("assignment", "constraint"),
    [
        ("status = 'approved_by_magic'", "entry_status"),
        ("trl = 10", "trl_range"),
        ("value_grade = 0", "value_grade_range"),
        (
            "status = 'entered', entered_at = NULL, submitted_at = CURRENT_TIMESTAMP",
            "entered_has_entered_at",
        ),
        ("status = 'pending_school', submitted_at = NULL", "reviewed_states_were_submitted"),
        (
            "status = 'entered', entered_at = CURRENT_TIMESTAMP, submitted_at = CURRENT_TIMESTAMP, trl = NULL",
            "entered_is_graded",
        ),
        ("transfer_willingness = 'maybe'", "willingness"),
        ("asking_price = -1", "price_non_negative"),
    ],
)
def test_database_rejects_invalid_patent_rows(app, assignment, constraint):
    patent = make_patent()
    statement = sa.text(f"UPDATE patents SET {assignment} WHERE id = :id")
    with pytest.raises(IntegrityError, match=constraint):
        db.session.execute(statement, {"id": patent.id})
    db.session.rollback()
