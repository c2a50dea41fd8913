"""Organizations, colleges, users, invitations."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, as_utc, enum_column, utcnow
from revive.extensions import db
from revive.queue import Delivery


class OrgKind(LabeledEnum):
    UNIVERSITY = ("university", "高校/科研院所")
    ENTERPRISE = ("enterprise", "企业")
    OFFICE = ("office", "运营中心/服务机构")
    REGULATOR = ("regulator", "知识产权局")
    PLATFORM = ("platform", "平台")


class InstitutionType(LabeledEnum):
    """What kind of institution a university-kind organization is (onboarding sets it)."""

    UNIVERSITY = ("university", "高校")
    INSTITUTE = ("institute", "科研院所")


class Role(LabeledEnum):
    PLATFORM_ADMIN = ("platform_admin", "平台管理员")
    UNIVERSITY_ADMIN = ("university_admin", "学校管理员")
    COLLEGE_ADMIN = ("college_admin", "学院管理员")
    INVENTOR = ("inventor", "发明人")
    ENTERPRISE = ("enterprise", "企业用户")
    OFFICER = ("officer", "技术经理人")
    REGULATOR = ("regulator", "监管部门（只读）")


UNIVERSITY_ROLES = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR})
# Platform-level accounts the platform admin creates directly (no organization required).
STAFF_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})
# Enterprise labels offered at registration (stored comma-separated in Organization.tags).
ENTERPRISE_TAGS = ("专精特新", "高新技术企业", "科技型中小企业")


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"
    __table_args__ = (
        sa.CheckConstraint(
            "institution_type IS NULL OR kind = 'university'",
            name="institution_type_for_institutions",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, "org_kind"), index=True)
    # 统一社会信用代码: enterprises must have one (validated); universities may.
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    region: Mapped[str | None] = mapped_column(sa.String(100))
    tags: Mapped[str | None] = mapped_column(sa.String(200))  # 专精特新/高新技术企业/…
    # 高校 or 科研院所, for organizations of kind UNIVERSITY (onboarding sets it; older rows
    # and demo data may have none).
    institution_type: Mapped[InstitutionType | None] = mapped_column(
        enum_column(InstitutionType, "institution_type")
    )

    colleges: Mapped[list[College]] = relationship(
        back_populates="institution", order_by="College.name", cascade="all, delete-orphan"
    )

    @property
    def tag_list(self) -> list[str]:
        return [t for t in (self.tags or "").split(",") if t]

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name}>"


class College(db.Model):
    __tablename__ = "colleges"
    __table_args__ = (sa.UniqueConstraint("institution_id", "name", name="institution_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))

    institution: Mapped[Organization] = relationship(back_populates="colleges")


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role NOT IN ('university_admin', 'college_admin', 'inventor', 'enterprise') "
            "OR organization_id IS NOT NULL",
            name="org_required_for_role",
        ),
        sa.CheckConstraint(
            "role <> 'college_admin' OR college_id IS NOT NULL", name="college_admin_has_college"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id"), index=True
    )
    college_id: Mapped[int | None] = mapped_column(sa.ForeignKey("colleges.id"), index=True)
    is_active_flag: Mapped[bool] = mapped_column("is_active", sa.Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When the user proved the mailbox: a self-registered enterprise account is unusable until
    # its confirmation link is opened (when the platform can send e-mail; accounts/confirm.py).
    # Invited members, admin-made accounts and accounts from before the check: their creation
    # (the default; registration sets None explicitly while a link is pending).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=utcnow)

    organization: Mapped[Organization | None] = relationship()
    college: Mapped[College | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.is_active_flag)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_university_user(self) -> bool:
        return self.role in UNIVERSITY_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class Invitation(TimestampMixin, db.Model):
    """A university admin invites a colleague; the link lets them set a password once."""

    __tablename__ = "invitations"
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('university_admin', 'college_admin', 'inventor')",
            name="university_roles_only",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[Role] = mapped_column(enum_column(Role, "invitation_role"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    college_id: Mapped[int | None] = mapped_column(sa.ForeignKey("colleges.id"))
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    college: Mapped[College | None] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return as_utc(self.expires_at) <= utcnow()


class UserSession(db.Model):
    """One signed-in browser. The Flask session cookie carries the random token; only its
    SHA-256 is stored. A request is signed in only while its row is neither revoked, past
    ``expires_at`` (absolute lifetime) nor idle for longer than the idle timeout."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Why it ended: logout, logout_all, revoked, password_changed, deactivated, password_reset.
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(20))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User] = relationship()


class PasswordReset(Delivery, db.Model):
    """A one-time link to set a new password: asked for by e-mail (``issued_by_id`` None) or
    issued by an admin. Only a hash of the link's token is looked up; the token itself is
    HMAC(SECRET_KEY, ``nonce``), so the worker that e-mails the link can rebuild it while
    neither the database nor the task queue ever holds it (see accounts/recovery.py)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    nonce: Mapped[str] = mapped_column(sa.String(32))
    # "reset": sets a new password; "confirm": proves the mailbox of a new registration
    # (accounts/confirm.py). Each page looks up its own purpose only.
    purpose: Mapped[str] = mapped_column(sa.String(10), default="reset", server_default="reset")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    @property
    def is_pending(self) -> bool:
        return self.used_at is None and self.revoked_at is None


class ThrottleEvent(db.Model):
    """One event counted by a sliding-window limit (revive/accounts/throttle.py), shared by
    every web process: a failed login, or a password-reset request. ``scope`` says which
    limit; ``key`` what it counts per — an account (hash of the e-mail address tried), an
    account on one trusted device, a client address. Rows older than their window are pruned
    when new ones are recorded."""

    __tablename__ = "throttle_events"
    __table_args__ = (
        sa.Index("ix_throttle_events_scope_key_created_at", "scope", "key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class TokenScope(LabeledEnum):
    READ = ("read", "只读")  # GET and HEAD only
    WRITE = ("write", "读写")  # every method the user's role allows


class ApiToken(db.Model):
    """A personal API token: ``Authorization: Bearer <token>`` on /api/v1 acts as ``user``
    within ``scope`` until ``expires_at`` or revocation. The token is shown once when it is
    made; only its SHA-256 is stored, with a short ``prefix`` to tell tokens apart."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoke_reason IS NULL)", name="revoked_with_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[TokenScope] = mapped_column(enum_column(TokenScope, "api_token_scope"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_ip: Mapped[str | None] = mapped_column(sa.String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # owner, admin (a manager of the user), deactivated (the account was deactivated)
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(20))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    @property
    def last_moment(self) -> datetime:
        """The last second it works: shown as the day chosen (有效期至, Beijing time)."""
        return self.expires_at - timedelta(seconds=1)
