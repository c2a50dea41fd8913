"""Password hashing, in one place: werkzeug's hashes with the method of the app's
``PASSWORD_HASH_METHOD``.

Production uses werkzeug's default, scrypt (about 0.1 s a hash on purpose). The setting is not
read from the environment, so an operator cannot weaken it by mistake; only code that builds
the app (the test suite, as Django's test settings swap in a fast hasher) may pass a cheaper
method. Verifying reads the method from the stored hash itself, so hashes made under another
setting keep working.
"""

from __future__ import annotations

import functools

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

DEFAULT_METHOD = "scrypt"


def _method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD") or DEFAULT_METHOD


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


def check_password(stored_hash: str, password: str) -> bool:
    return check_password_hash(stored_hash, password)


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("revive-dummy-password", method=method)


def check_dummy(password: str) -> None:
    """Cost one check, as for a real account (unknown e-mails must take as long as wrong
    passwords: no account enumeration by timing)."""
    check_password_hash(_dummy_hash(_method()), password)
