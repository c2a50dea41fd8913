"""WSGI entry point for gunicorn: ``gunicorn revive.wsgi:app``."""

from revive import create_app
from revive.settings.keycheck import record_web_key

app = create_app()
record_web_key(app)  # workers compare their SECRET_KEY with it (revive.settings.keycheck)
