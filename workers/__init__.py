"""Celery worker entry point (``celery -A workers.app worker``) and thin task wrappers."""
