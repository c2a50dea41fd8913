"""Task wrappers: take ids, delegate to services. Names are what revive.queue.enqueue sends."""

from __future__ import annotations

from celery import shared_task

from revive.imports import services as imports_services


@shared_task(name="imports.validate", acks_late=True)
def validate_import(job_id: int) -> None:
    imports_services.validate_job(job_id)


@shared_task(name="imports.commit", acks_late=True)
def commit_import(job_id: int) -> None:
    imports_services.commit_job(job_id)
