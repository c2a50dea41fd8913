"""Task wrappers: take ids, delegate to services. Names are what revive.queue.enqueue sends."""

from __future__ import annotations

from celery import shared_task

from revive.alerts import services as alerts_services
from revive.dashboard import cache as dashboard_cache
from revive.deals import services as deals_services
from revive.imports import services as imports_services
from revive.matching import services as matching_services
from revive.notifications import review as notifications_review
from revive.notifications import services as notifications_services
from revive.pools import services as pools_services


@shared_task(name="imports.validate", acks_late=True)
def validate_import(job_id: int) -> None:
    imports_services.validate_job(job_id)


@shared_task(name="imports.commit", acks_late=True)
def commit_import(job_id: int) -> None:
    imports_services.commit_job(job_id)


@shared_task(name="matching.tokenize", acks_late=True)
def tokenize_patents(patent_ids: list[int] | None) -> None:
    matching_services.tokenize_patents(patent_ids)


@shared_task(name="matching.build_index", acks_late=True)
def build_index(build_id: int) -> None:
    matching_services.execute_index_build(build_id)


@shared_task(name="matching.match_run", acks_late=True)
def match_run(run_id: int) -> None:
    matching_services.execute_match_run(run_id)


@shared_task(name="matching.score_shards", acks_late=True, ignore_result=False)
def score_shards(run_id: int, build_id: int, shard_names: list[str]) -> dict:
    return matching_services.score_shards(run_id, build_id, shard_names)


@shared_task(name="matching.merge_scores", acks_late=True)
def merge_scores(parts: list[dict], run_id: int, build_id: int) -> None:
    matching_services.merge_scores(parts, run_id, build_id)


@shared_task(name="matching.refit_strength", acks_late=True)
def refit_strength(model_id: int | None = None) -> None:
    matching_services.refit_strength(model_id)


@shared_task(name="notifications.email", acks_late=True)
def send_notification_email(notification_id: int) -> None:
    notifications_services.deliver_email(notification_id)


@shared_task(name="notifications.password_reset_email", acks_late=True)
def send_password_reset_email(reset_id: int) -> None:
    notifications_services.deliver_password_reset(reset_id)


@shared_task(name="deals.notify_overdue", acks_late=True)
def notify_overdue_deals() -> None:
    deals_services.notify_overdue()


@shared_task(name="notifications.review_digest", acks_late=True)
def send_review_digests() -> None:
    notifications_review.send_review_digests()


@shared_task(name="dashboard.refresh", acks_late=True)
def refresh_dashboard(keys: list[str] | None) -> None:
    dashboard_cache.refresh(keys)


@shared_task(name="pools.run", acks_late=True)
def pool_run(run_id: int) -> None:
    pools_services.execute_run(run_id)


@shared_task(name="alerts.digest", acks_late=True)
def send_alert_digests() -> None:
    alerts_services.send_alert_digests()


@shared_task(name="alerts.digest_email", acks_late=True)
def send_alert_digest_email(digest_id: int) -> None:
    alerts_services.deliver_digest(digest_id)
