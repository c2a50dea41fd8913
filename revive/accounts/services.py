"""Account services: registration, invitations, authentication, members, colleges.

Public functions commit; helpers starting with ``_`` only flush.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from revive import signals
from revive.accounts import passwords, regions, sessions, throttle, tokens, uscc
from revive.accounts.devices import new_device_nonce
from revive.accounts.models import (
    ENTERPRISE_TAGS,
    STAFF_ROLES,
    UNIVERSITY_ROLES,
    College,
    Invitation,
    Organization,
    OrgKind,
    PasswordReset,
    Role,
    User,
)
from revive.accounts.permissions import check_manages_member, check_manages_org
from revive.audit import services as audit
from revive.common.links import has_link
from revive.db import utcnow
from revive.errors import DomainError, NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db

logger = logging.getLogger(__name__)

# The answers of the login limits (see login()); each says where the owner can still sign in.
ACCOUNT_LIMITED = (
    "该账号的登录失败次数过多，未登录过的设备请 {minutes} 分钟后再试；"
    "在此前成功登录过该账号的浏览器上仍可正常登录"
)
DEVICE_LIMITED = "此浏览器上该账号的登录失败次数过多，请 {minutes} 分钟后再试"
IP_LIMITED = (
    "当前网络地址的登录失败次数过多，请 {minutes} 分钟后再试；"
    "在此前成功登录过该账号的浏览器上仍可正常登录"
)

# Which role becomes which kind of organization when the platform admin creates staff users.
_STAFF_ORG_KIND = {
    Role.OFFICER: OrgKind.OFFICE,
    Role.REGULATOR: OrgKind.REGULATOR,
    Role.PLATFORM_ADMIN: OrgKind.PLATFORM,
}


class LoginRateLimited(DomainError):  # noqa: N818  (named like errors.py)
    status_code = 429
    code = "too_many_requests"
    default_message = "登录失败次数过多，请稍后再试"


class InvitationUnusable(DomainError):  # noqa: N818
    """The invitation link is unknown, used, revoked or expired."""

    status_code = 410
    code = "invitation_unusable"
    default_message = "邀请链接无效"


class AlreadyRegistered(ValidationFailed):  # noqa: N818
    """The company (its credit code or its name) is registered already."""


class RegistrationLimited(DomainError):  # noqa: N818
    status_code = 429
    code = "too_many_requests"
    default_message = "注册过于频繁，请稍后再试"


class EmailTaken(ValidationFailed):  # noqa: N818
    """The e-mail address already has an account."""

    default_message = "该邮箱已注册"

    def __init__(self) -> None:
        super().__init__(details={"field": "email"})


EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def account_exists(email: str | None) -> bool:
    """Does this e-mail address have an account (any role, active or not)?"""
    return _email_taken(normalize_email(email))


# Passwords people pick first (lower-cased); each has letters and digits, so the other rules
# alone would let them through.
COMMON_PASSWORDS = frozenset(
    {
        "password1",
        "password12",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "p@ssw0rd1",
        "abc12345",
        "abc123456",
        "abcd1234",
        "a1234567",
        "a12345678",
        "aa123456",
        "aa123456789",
        "qwer1234",
        "qwerty123",
        "qwe12345",
        "1qaz2wsx",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "zxcvbnm1",
        "admin123",
        "admin1234",
        "admin888",
        "root1234",
        "test1234",
        "woaini1314",
        "iloveyou1",
        "12345678a",
        "123456789a",
        "123456abc",
        "revive123",
        "revive2025",
    }
)


def validate_password(password: str, *, email: str | None = None, name: str | None = None) -> None:
    """Password policy: at least 8 characters with letters and digits, not a common password,
    not the account's e-mail, e-mail name or person's name."""
    password = password or ""
    if len(password) < 8:
        raise ValidationFailed("密码至少 8 位", details={"field": "password"})
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise ValidationFailed("密码须同时包含字母和数字", details={"field": "password"})
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise ValidationFailed(
            "该密码过于常见，请换一个更难猜的密码", details={"field": "password"}
        )
    email = normalize_email(email)
    personal = {email, email.split("@")[0], (name or "").strip().lower()} - {""}
    if lowered in personal:
        raise ValidationFailed("密码不能与邮箱或姓名相同", details={"field": "password"})


def get_or_create_org(name: str, kind: OrgKind, **fields: object) -> Organization:
    org = db.session.scalar(sa.select(Organization).where(Organization.name == name))
    if org is None:
        org = Organization(name=name, kind=kind, **fields)
        db.session.add(org)
        db.session.flush()
    return org


def get_or_create_college(institution: Organization, name: str) -> College:
    college = db.session.scalar(
        sa.select(College).where(College.institution_id == institution.id, College.name == name)
    )
    if college is None:
        college = College(institution=institution, name=name)
        db.session.add(college)
        db.session.flush()
    return college


def _email_taken(email: str) -> bool:
    return db.session.scalar(sa.select(User.id).where(User.email == email)) is not None


def _new_user(
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    organization: Organization | None = None,
    college: College | None = None,
    phone: str | None = None,
    check_policy: bool = True,
) -> User:
    email = normalize_email(email)
    if check_policy:
        validate_password(password, email=email, name=name)
    if _email_taken(email):
        raise EmailTaken()
    user = User(
        email=email,
        name=name.strip(),
        phone=(phone or "").strip() or None,
        role=role,
        organization=organization,
        college=college,
        password_hash=passwords.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _commit_or_conflict(message: str, field: str | None = None) -> None:
    """Commit; a unique-constraint race becomes a ValidationFailed instead of a 500."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed(message, details={"field": field} if field else None) from None


# --- authentication -------------------------------------------------------------------------
#
# Throttling after OWASP's device cookies (see revive/accounts/devices.py): failures from a
# browser holding a device cookie for the account count for that (account, device) only;
# failures from any other client count per account (the address tried) and per client
# address. Past a limit only the clients it counts are refused — never the owner's trusted
# browser — so nobody can lock an owner, or a campus behind one NAT address, out.


@dataclass(frozen=True)
class LoginLimits:
    window: timedelta
    account: int  # failures from untrusted clients per address tried
    device: int  # failures per account on one trusted device
    ip: int  # failures from untrusted clients per client address


def login_limits() -> LoginLimits:
    cfg = current_app.config
    return LoginLimits(
        window=timedelta(minutes=int(cfg.get("REVIVE_LOGIN_WINDOW_MINUTES", 15))),
        account=int(cfg.get("REVIVE_LOGIN_ACCOUNT_MAX_FAILURES", 10)),
        device=int(cfg.get("REVIVE_LOGIN_DEVICE_MAX_FAILURES", 10)),
        ip=int(cfg.get("REVIVE_LOGIN_IP_MAX_FAILURES", 100)),
    )


@dataclass(frozen=True)
class LoginResult:
    """``user`` None: wrong credentials. On success, ``device_nonce`` is the new device
    token of this browser for the user (set it in the device cookie)."""

    user: User | None
    device_nonce: str | None = None


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, else None; no limits, no writes.

    Unknown e-mail, wrong password and inactive accounts all cost one password-hash check
    (a dummy hash for unknown addresses), so timing does not tell them apart."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    if user is None:
        passwords.check_dummy(password or "")
        return None
    if not passwords.check_password(user.password_hash, password or "") or not user.is_active:
        return None
    return user


def _account_key(email: str) -> str:
    """The untrusted-client counter's key: a hash of the address tried (no e-mail addresses
    in the table; the same for addresses with and without an account)."""
    return throttle.digest(normalize_email(email))


def login(
    email: str,
    password: str,
    *,
    ip: str | None = None,
    devices: Mapping[int, str] | None = None,
) -> LoginResult:
    """Check credentials behind the login limits; record the failure or the success. Commits.

    ``devices`` is this browser's device cookie ({user id: nonce}). A browser holding one for
    the account is trusted: it is refused only after LoginLimits.device failures of its own.
    Any other client is refused (LoginRateLimited, 429) once the address tried has
    LoginLimits.account failures from untrusted clients, or its client address LoginLimits.ip
    — whether or not the address has an account, so a refusal reveals nothing either.
    The right password on an account whose mailbox is not yet proven raises
    confirm.EmailNotConfirmed (403; accounts/confirm.py).
    Refused attempts check no password and count nothing. A success clears its own counter
    (this device's, or the address's untrusted one), never another's nor the IP's.
    """
    limits, now = login_limits(), utcnow()
    window = limits.window
    minutes = int(window.total_seconds() // 60)
    user_id = db.session.scalar(sa.select(User.id).where(User.email == normalize_email(email)))
    nonce = (devices or {}).get(user_id) if user_id is not None else None
    if nonce:
        scope, key = throttle.Scope.LOGIN_DEVICE, f"{user_id}:{nonce}"
        if throttle.count(scope, key, window=window, now=now) >= limits.device:
            raise LoginRateLimited(DEVICE_LIMITED.format(minutes=minutes))
    else:
        scope, key = throttle.Scope.LOGIN_ACCOUNT, _account_key(email)
        if ip and (
            throttle.count(throttle.Scope.LOGIN_IP, ip, window=window, now=now) >= limits.ip
        ):
            raise LoginRateLimited(IP_LIMITED.format(minutes=minutes))
        if throttle.count(scope, key, window=window, now=now) >= limits.account:
            raise LoginRateLimited(ACCOUNT_LIMITED.format(minutes=minutes))
    user = authenticate(email, password)
    if user is None:
        throttle.hit(scope, key, window=window, now=now)
        if scope == throttle.Scope.LOGIN_ACCOUNT and ip:
            throttle.hit(throttle.Scope.LOGIN_IP, ip, window=window, now=now)
        db.session.commit()
        return LoginResult(None)
    throttle.clear(scope, key)
    if user.email_confirmed_at is None:
        from revive.accounts.confirm import EmailNotConfirmed

        db.session.commit()
        raise EmailNotConfirmed(user)  # the right password: the page offers a new link
    user.last_login_at = now
    db.session.commit()
    return LoginResult(user, new_device_nonce())


def change_password(
    user: User,
    *,
    current_password: str,
    new_password: str,
    keep_session_id: int | None = None,
) -> int:
    """Replace the user's password after checking the current one, end every other session of
    the user (``keep_session_id``, the browser that changed it, stays signed in), revoke the
    user's API tokens and void pending reset links: whoever got in with the old password (or a
    stolen cookie, which could make a token) keeps nothing. Returns how many sessions ended."""
    check_current_password(user, current_password, field="current_password")
    validate_password(new_password, email=user.email, name=user.name)
    if passwords.check_password(user.password_hash, new_password):
        raise ValidationFailed("新密码不能与当前密码相同", details={"field": "new_password"})
    user.password_hash = passwords.hash_password(new_password)
    ended = sessions.revoke_user_sessions(user.id, "password_changed", keep_id=keep_session_id)
    tokens.revoke_user_tokens(user.id, "password_changed", actor=user)
    void_pending_resets(user.id, utcnow())
    db.session.commit()
    return ended


def check_current_password(user: User, password: str | None, *, field: str = "password") -> None:
    """The user's current password, asked again for a sensitive step (changing it, making an
    API token: a stolen session cookie alone must not yield a credential that outlives the
    session); ValidationFailed naming ``field`` when it is wrong."""
    if not passwords.check_password(user.password_hash, password or ""):
        raise ValidationFailed("当前密码不正确", details={"field": field})


def void_pending_resets(
    user_id: int, now: datetime, *, except_id: int | None = None, purpose: str = "reset"
) -> None:
    """Void the user's unused links of ``purpose`` (all but ``except_id``): a newer link, a
    completed reset or a password change supersedes the reset links; a new e-mail
    confirmation link ("confirm") the earlier ones. No commit."""
    query = sa.update(PasswordReset).where(
        PasswordReset.user_id == user_id,
        PasswordReset.purpose == purpose,
        PasswordReset.used_at.is_(None),
        PasswordReset.revoked_at.is_(None),
    )
    if except_id is not None:
        query = query.where(PasswordReset.id != except_id)
    db.session.execute(query.values(revoked_at=now).execution_options(synchronize_session=False))


# --- enterprise self-registration -----------------------------------------------------------


def clean_org_name(text: str | None) -> str:
    """An organisation's name as stored: invisible format characters (zero-width space,
    joiners, BOM) dropped and each run of whitespace one space. The characters themselves
    stay as typed (full-width brackets in 有限公司（北京） are the usual spelling)."""
    text = "".join(ch for ch in (text or "") if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


def org_name_key(name: str) -> str:
    """What two names must share to be the same organisation: NFKC-folded (full- and
    half-width, no-break and ideographic spaces alike), no whitespace, no invisible
    characters, case-folded."""
    folded = unicodedata.normalize("NFKC", clean_org_name(name))
    return "".join(folded.split()).casefold()


def org_name_taken(name: str) -> bool:
    """Is an organisation of this name (by ``org_name_key``) registered? A security review
    registered an existing company again with a zero-width space in its name and used the
    account at once. Compared in Python over every name (names stored before this check may
    hold what the key folds away; a registration is rare, and 100,000 names took 0.2 s)."""
    key = org_name_key(name)
    return bool(key) and any(
        org_name_key(n) == key for n in db.session.scalars(sa.select(Organization.name))
    )


def register_enterprise(
    *,
    company_name: str,
    credit_code: str,
    region: str | None,
    tags: Iterable[str],
    contact_name: str,
    email: str,
    phone: str | None,
    password: str,
) -> User:
    """Create an enterprise Organization and its first user (role ENTERPRISE)."""
    company_name = clean_org_name(company_name)
    if not company_name:
        raise ValidationFailed("请填写企业名称", details={"field": "company_name"})
    # Both are quoted in the confirmation e-mail: no links in them (a security review mailed
    # 「请立即访问 http://… 领取补贴有限公司」 to 25 addresses).
    for value, field, label in (
        (company_name, "company_name", "企业名称"),
        (contact_name, "contact_name", "联系人姓名"),
    ):
        if has_link(value):
            raise ValidationFailed(f"{label}不能包含网址", details={"field": field})
    try:
        code = uscc.validate(credit_code)
    except ValidationFailed as err:
        raise ValidationFailed(err.message, details={"field": "credit_code"}) from None
    unknown = [t for t in tags if t not in ENTERPRISE_TAGS]
    if unknown:
        raise ValidationFailed(f"未知的企业标签：{'、'.join(unknown)}", details={"field": "tags"})
    from revive.accounts import confirm  # confirm → recovery → this module

    validate_password(password, email=email, name=contact_name)
    # An expired, never-confirmed registration holds none of these any longer.
    confirm.release_stale(
        credit_code=code, name_key=org_name_key(company_name), email=normalize_email(email)
    )
    if db.session.scalar(sa.select(Organization.id).where(Organization.credit_code == code)):
        raise AlreadyRegistered(
            "该统一社会信用代码已注册。如需为本企业增加账号，请联系平台管理员",
            details={"field": "credit_code"},
        )
    if org_name_taken(company_name):
        raise AlreadyRegistered(
            "该企业名称已注册。如需为本企业增加账号，请联系平台管理员",
            details={"field": "company_name"},
        )
    try:
        region = regions.normalize(region)
    except ValueError as exc:
        raise ValidationFailed(str(exc), details={"field": "region"}) from None
    if _email_taken(normalize_email(email)):
        raise EmailTaken()
    org = Organization(
        name=company_name,
        kind=OrgKind.ENTERPRISE,
        credit_code=code,
        region=region,
        tags=",".join(t for t in ENTERPRISE_TAGS if t in set(tags)) or None,
    )
    db.session.add(org)
    user = _new_user(
        email=email,
        name=contact_name,
        password=password,
        role=Role.ENTERPRISE,
        organization=org,
        phone=phone,
        check_policy=False,
    )
    link = confirm.start(user) if confirm.required() else None
    _commit_or_conflict("该企业或邮箱已注册，请勿重复提交")
    if link is not None:
        confirm.send(link)
    return user


REGISTER_WINDOW = timedelta(hours=1)


def request_registration(*, password: str, ip: str | None = None, **fields: object) -> User | None:
    """``register_enterprise`` for the public form, which must not tell whether an e-mail
    address has an account: a taken address returns None, after the password hashing a new
    account costs, and the caller answers it exactly like a new account. When the new
    account must confirm its address (accounts/confirm.py) a registered company answers the
    same way too: otherwise registering an address, then its credit code again, told whether
    the address had an account (a security review). Every other ValidationFailed is raised
    as usual. At most REVIVE_REGISTER_PER_IP registrations an hour from one client address
    (RegistrationLimited, 429): each sends an e-mail."""
    from revive.accounts import confirm

    if ip:
        now = utcnow()
        limit = int(current_app.config.get("REVIVE_REGISTER_PER_IP", 10))
        if throttle.count(throttle.Scope.REGISTER_IP, ip, window=REGISTER_WINDOW, now=now) >= (
            limit
        ):
            raise RegistrationLimited(f"同一网络每小时最多注册 {limit} 次，请稍后再试")
        throttle.hit(throttle.Scope.REGISTER_IP, ip, window=REGISTER_WINDOW, now=now)
        db.session.commit()  # counted whatever the outcome
    try:
        user = register_enterprise(password=password, **fields)  # type: ignore[arg-type]
    except EmailTaken:
        passwords.hash_password(password or "")
        return None
    except AlreadyRegistered:
        if not confirm.required():
            raise
        db.session.rollback()
        passwords.hash_password(password or "")  # the time a new account costs
        return None
    logger.info("Enterprise %s registered", user.organization_id)
    return user


# --- who manages what -----------------------------------------------------------------------


def college_owner(actor: User, org_id: int) -> Organization:
    """The university ``org_id`` if ``actor`` may set its colleges and invite its members."""
    return _university_of(actor, org_id)


def _university_of(actor: User, org_id: int) -> Organization:
    org = check_manages_org(actor, org_id)
    if org.kind != OrgKind.UNIVERSITY:
        raise ValidationFailed("只能为高校/科研院所邀请成员或设置学院")
    return org


# --- invitations ----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite_user(
    *,
    actor: User,
    organization_id: int,
    email: str,
    name: str,
    role: Role,
    college_id: int | None = None,
) -> tuple[Invitation, str]:
    """Create an invitation into a university; returns it and the one-time token (not stored)."""
    if actor.role not in (Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN):
        raise PermissionDenied("只有学校管理员或平台管理员可以邀请成员")
    org = _university_of(actor, organization_id)
    role = Role(role)
    if role not in UNIVERSITY_ROLES:
        raise ValidationFailed(
            "邀请的角色只能是学校管理员、学院管理员或发明人", details={"field": "role"}
        )
    college = None
    if college_id:
        college = db.session.get(College, college_id)
        if college is None or college.institution_id != org.id:
            raise PermissionDenied("只能选择本校的学院")
    if role == Role.COLLEGE_ADMIN and college is None:
        raise ValidationFailed("邀请学院管理员时必须选择所属学院", details={"field": "college_id"})
    email = normalize_email(email)
    if not name or not name.strip():
        raise ValidationFailed("请填写姓名", details={"field": "name"})
    if _email_taken(email):
        raise EmailTaken()
    now = utcnow()
    # A new invitation replaces any still-pending one of the same university for the address
    # (another university's invitation to the same person is not this admin's to cancel).
    for old in db.session.scalars(
        sa.select(Invitation).where(
            Invitation.email == email,
            Invitation.organization_id == org.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
    token = secrets.token_urlsafe(32)
    days = int(current_app.config.get("REVIVE_INVITE_DAYS", 7))
    invitation = Invitation(
        token_hash=hash_token(token),
        email=email,
        name=name.strip(),
        role=role,
        organization=org,
        college=college,
        invited_by_id=actor.id,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "invitation",
        invitation.id,
        "create",
        actor,
        organization_id=org.id,
        email=email,
        role=role.value,
        college_id=college.id if college else None,
        expires_at=invitation.expires_at.isoformat(),
    )
    db.session.commit()
    return invitation, token


def get_usable_invitation(token: str) -> Invitation:
    """The pending, unexpired invitation for ``token``; InvitationUnusable with the reason."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == hash_token(token or ""))
    )
    if invitation is None:
        raise InvitationUnusable("邀请链接无效，请核对链接是否完整，或联系学校管理员重新邀请")
    if invitation.accepted_at is not None:
        raise InvitationUnusable("该邀请链接已使用过，请直接登录；如忘记密码请联系学校管理员")
    if invitation.revoked_at is not None:
        raise InvitationUnusable("该邀请已被撤销，请联系学校管理员重新邀请")
    if invitation.is_expired:
        raise InvitationUnusable("该邀请链接已过期，请联系学校管理员重新邀请")
    return invitation


def accept_invitation(token: str, *, password: str, name: str | None = None) -> User:
    """Create the invited user with the chosen password (and display name) and mark the
    invitation used."""
    invitation = get_usable_invitation(token)
    user = _new_user(  # checks the password policy first
        email=invitation.email,
        name=(name or "").strip() or invitation.name,
        password=password,
        role=invitation.role,
        organization=invitation.organization,
        college=invitation.college,
    )
    invitation.accepted_at = user.last_login_at = utcnow()  # accepting signs them in
    invitation.user_id = user.id
    audit.record(
        "user",
        user.id,
        "accept_invitation",
        user,
        organization_id=invitation.organization_id,
        invitation_id=invitation.id,
        role=invitation.role.value,
    )
    _commit_or_conflict("该邀请已被使用或该邮箱已注册")
    # The name typed here is a display name only: it links the account to nothing. Inventory
    # links the patents the inviter chose for this invitation (revive.inventory.inventors).
    signals.invitation_accepted.send(None, invitation_id=invitation.id, user_id=user.id)
    return user


def revoke_invitation(invitation_id: int, *, actor: User) -> Invitation:
    """Revoke a pending invitation of an organization the actor manages."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFoundError("邀请不存在")
    check_manages_org(actor, invitation.organization_id)
    if not invitation.is_pending:
        raise ValidationFailed("该邀请已被使用或撤销")
    invitation.revoked_at = utcnow()
    audit.record(
        "invitation",
        invitation.id,
        "revoke",
        actor,
        organization_id=invitation.organization_id,
        email=invitation.email,
    )
    db.session.commit()
    return invitation


# --- members --------------------------------------------------------------------------------


def set_user_active(user_id: int, active: bool, *, actor: User) -> User:
    """Deactivate (ending all their sessions and revoking their API tokens) or reactivate a
    member of an organization the actor manages."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError("用户不存在")
    check_manages_member(actor, user)
    if user.id == actor.id:
        raise ValidationFailed("不能停用自己的账号")
    if user.is_active_flag == active:
        return user  # nothing changes (a second click, two tabs): nothing to record
    user.is_active_flag = active
    if not active:
        sessions.revoke_user_sessions(user.id, "deactivated")
        tokens.revoke_user_tokens(user.id, "deactivated", actor=actor)
    audit.record(
        "user",
        user.id,
        "reactivate" if active else "deactivate",
        actor,
        organization_id=user.organization_id,
        email=user.email,
    )
    db.session.commit()
    return user


def create_platform_admin(*, email: str, name: str, password: str) -> User:
    """A platform admin made on the server's command line (``revive create-admin``): the
    first one of a fresh deployment, or another. No actor (an operator on the server). Refuses
    an address that already has an account (EmailTaken), never changes one. Audited."""
    email = normalize_email(email)
    if len(email) > 254 or not re.fullmatch(EMAIL_RE, email):
        raise ValidationFailed(f"邮箱格式不正确：{email or '（空）'}", details={"field": "email"})
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写姓名", details={"field": "name"})
    if len(name) > 100:
        raise ValidationFailed("姓名不能超过 100 个字", details={"field": "name"})
    if _email_taken(email):
        raise EmailTaken()
    user = _new_user(email=email, name=name, password=password, role=Role.PLATFORM_ADMIN)
    audit.record("user", user.id, "create_platform_admin", None, email=email, via="cli")
    _commit_or_conflict("该邮箱已注册", "email")
    logger.info("Platform admin %s created on the command line", user.id)
    return user


def create_enterprise_user(*, actor: User, organization_id: int, email: str, name: str) -> User:
    """The platform admin gives a registered enterprise an account (an enterprise made by a
    demand import, or a second user for a registered one: registration refuses a company that
    is already there). Nobody knows its password: the caller issues the one-time link that sets
    it (recovery.issue_admin_reset). Audited."""
    if actor.role != Role.PLATFORM_ADMIN:
        raise PermissionDenied("只有平台管理员可以为企业添加账号")
    org = db.session.get(Organization, organization_id)
    if org is None or org.kind != OrgKind.ENTERPRISE:
        raise ValidationFailed("只能为已登记的企业添加企业用户")
    if not (name or "").strip():
        raise ValidationFailed("请填写姓名", details={"field": "name"})
    user = _new_user(
        email=email,
        name=name,
        password=secrets.token_urlsafe(32),
        role=Role.ENTERPRISE,
        organization=org,
        check_policy=False,
    )
    audit.record(
        "user",
        user.id,
        "create_enterprise_user",
        actor,
        organization_id=org.id,
        email=user.email,
    )
    _commit_or_conflict("该邮箱已注册", "email")
    return user


def create_staff_user(
    *,
    actor: User,
    email: str,
    name: str,
    role: Role,
    password: str,
    organization_name: str | None = None,
) -> User:
    """Platform admin creates an officer, regulator or platform admin with an initial password."""
    if actor.role != Role.PLATFORM_ADMIN:
        raise PermissionDenied("只有平台管理员可以创建此类账号")
    role = Role(role)
    if role not in STAFF_ROLES:
        raise ValidationFailed(
            "这里只能创建技术经理人、监管部门或平台管理员账号；高校成员请用邀请",
            details={"field": "role"},
        )
    org = None
    org_name = (organization_name or "").strip()
    if org_name:
        org = get_or_create_org(org_name, _STAFF_ORG_KIND[role])
        if org.kind != _STAFF_ORG_KIND[role]:
            raise ValidationFailed(
                f"「{org_name}」已登记为{org.kind.label}，不能作为{role.label}的所属机构",
                details={"field": "organization_name"},
            )
    user = _new_user(email=email, name=name, password=password, role=role, organization=org)
    audit.record(
        "user",
        user.id,
        "create_staff",
        actor,
        organization_id=org.id if org else None,
        email=user.email,
        role=role.value,
    )
    _commit_or_conflict("该邮箱已注册", "email")
    return user


# --- colleges -------------------------------------------------------------------------------


def _college_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写学院名称", details={"field": "name"})
    if len(name) > 200:
        raise ValidationFailed("学院名称过长", details={"field": "name"})
    return name


def _check_college_name_free(org_id: int, name: str, except_id: int | None = None) -> None:
    query = sa.select(College.id).where(College.institution_id == org_id, College.name == name)
    if except_id is not None:
        query = query.where(College.id != except_id)
    if db.session.scalar(query) is not None:
        raise ValidationFailed(f"本校已有名为「{name}」的学院", details={"field": "name"})


def add_college(*, actor: User, organization_id: int, name: str) -> College:
    """Add a college to a university the actor manages."""
    org = _university_of(actor, organization_id)
    name = _college_name(name)
    _check_college_name_free(org.id, name)
    college = College(institution=org, name=name)
    db.session.add(college)
    _commit_or_conflict(f"本校已有名为「{name}」的学院", "name")
    return college


def rename_college(college_id: int, *, actor: User, name: str) -> College:
    """Rename a college of a university the actor manages."""
    college = db.session.get(College, college_id)
    if college is None:
        raise NotFoundError("学院不存在")
    _university_of(actor, college.institution_id)
    name = _college_name(name)
    _check_college_name_free(college.institution_id, name, except_id=college.id)
    college.name = name
    _commit_or_conflict(f"本校已有名为「{name}」的学院", "name")
    return college
