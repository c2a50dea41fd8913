"""Task wrappers: take ids, delegate to services. Names are what revive.queue sends.

Acknowledgement, requeue on a lost worker and prefetch are set once for every task in
revive.config.broker_settings; why that and the one sweep suffice: revive/queue.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from celery import shared_task

from revive import queue
from revive.alerts import services as alerts_services
from revive.dashboard import refresh as dashboard_refresh
from revive.deals import services as deals_services
from revive.exports import services as exports_services
from revive.imports import services as imports_services
from revive.matching import indexes, runs, strength, tokens
from revive.notifications import review as notifications_review
from revive.notifications import services as notifications_services
from revive.pools import services as pools_services


def row_task(name: str) -> Callable[[Callable[[int], object]], object]:
    """A task working on one row (an outbox row, revive.queue): each delivery claims the row
    first and does nothing when another live delivery holds it or the row is finished."""

    def wrap(work: Callable[[int], object]) -> object:
        @shared_task(name=name)
        @functools.wraps(work)
        def task(row_id: int) -> None:
            with queue.claimed(name, row_id) as mine:
                if mine:
                    work(row_id)

        return task

    return wrap


@row_task("imports.validate")
def validate_import(job_id: int) -> None:
    imports_services.validate_job(job_id)


@row_task("imports.commit")
def commit_import(job_id: int) -> None:
    imports_services.commit_job(job_id)


@shared_task(name="matching.tokenize")
def tokenize_patents(patent_ids: list[int] | None) -> None:
    tokens.tokenize_patents(patent_ids)


@row_task("matching.build_index")
def build_index(build_id: int) -> None:
    indexes.execute_index_build(build_id)


@row_task("matching.match_run")
def match_run(run_id: int) -> None:
    runs.execute_match_run(run_id)


@shared_task(name="matching.score_shards", ignore_result=False)
def score_shards(run_id: int, build_id: int, shard_names: list[str]) -> dict:
    return runs.score_shards(run_id, build_id, shard_names)


@shared_task(name="matching.merge_scores")
def merge_scores(parts: list[dict], run_id: int, build_id: int) -> None:
    runs.merge_scores(parts, run_id, build_id)


@shared_task(name="matching.refit_strength")
def refit_strength(model_id: int | None = None) -> None:
    if model_id is None:  # the daily beat: the service makes its row and claims it itself
        strength.refit_strength(None)
        return
    with queue.claimed("matching.refit_strength", model_id) as mine:
        if mine:
            strength.refit_strength(model_id)


@row_task("notifications.email")
def send_notification_email(notification_id: int) -> None:
    notifications_services.deliver_email(notification_id)


@row_task("notifications.email_batch")
def send_notification_email_batch(batch_id: int) -> None:
    notifications_services.deliver_batch(batch_id)


@row_task("notifications.password_reset_email")
def send_password_reset_email(reset_id: int) -> None:
    notifications_services.deliver_password_reset(reset_id)


@shared_task(name="deals.notify_overdue")
def notify_overdue_deals() -> None:
    deals_services.notify_overdue()


@shared_task(name="notifications.review_digest")
def send_review_digests() -> None:
    notifications_review.send_review_digests()


@shared_task(name="dashboard.refresh")
def refresh_dashboard(keys: list[str] | None) -> None:
    dashboard_refresh.refresh(keys)


@row_task("pools.run")
def pool_run(run_id: int) -> None:
    pools_services.execute_run(run_id)


@shared_task(name="alerts.digest")
def send_alert_digests() -> None:
    alerts_services.send_alert_digests()


@row_task("alerts.digest_email")
def send_alert_digest_email(digest_id: int) -> None:
    alerts_services.deliver_digest(digest_id)


@row_task("exports.build")
def build_export(job_id: int) -> None:
    exports_services.build_job(job_id)


@shared_task(name="exports.cleanup")
def cleanup_exports() -> None:
    exports_services.cleanup()


@shared_task(name="imports.cleanup")
def cleanup_uploads() -> None:
    imports_services.cleanup_uploads()


@shared_task(name="queue.resend_stuck")
def resend_stuck() -> None:
    queue.resend_stuck()
