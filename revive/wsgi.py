"""WSGI entry point for gunicorn: ``gunicorn revive.wsgi:app``."""

from revive import create_app

app = create_app()
