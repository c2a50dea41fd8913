"""Unbound Flask extensions, initialised in create_app()."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from revive.bearer import bearer_token
from revive.db import Base


class TokenAwareCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF protection, except for API requests authenticated by a bearer token
    (revive.bearer): no cookie authenticates them, so there is no request to forge."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if apply_exemptions and bearer_token() is not None:
            return
        super().protect(apply_exemptions=apply_exemptions)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = TokenAwareCSRFProtect()
