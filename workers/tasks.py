"""Task wrappers: take ids, delegate to services. Names are what revive.queue.enqueue sends."""

from __future__ import annotations

from celery import shared_task
