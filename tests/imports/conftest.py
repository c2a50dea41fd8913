from __future__ import annotations

from dataclasses import dataclass

import pytest

from revive.accounts.models import College, Organization, Role, User
from revive.imports import services
from revive.imports.models import ImportJob, ImportStatus
from tests.factories import make_college, make_org, make_user


@dataclass
class Uni:
    org: Organization
    college: College
    other_college: College
    admin: User


@pytest.fixture
def uni(app) -> Uni:
    org = make_org("示例理工大学")
    college = make_college(org, "材料学院")
    other = make_college(org, "计算机学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org, name="王管理")
    return Uni(org, college, other, admin)


@pytest.fixture
def run_import(uni):
    """Create, validate and (unless dry) commit a job through the services, like the worker."""

    def run(path, *, actor=None, commit=True, all_or_nothing=False, college_id=None) -> ImportJob:
        actor = actor or uni.admin
        job = services.create_patent_import(
            path,
            actor=actor,
            institution_id=uni.org.id,
            college_id=college_id,
            all_or_nothing=all_or_nothing,
            enqueue=False,
        )
        job = services.validate_job(job.id)
        if commit and job.status == ImportStatus.VALIDATED:
            services.request_commit(job.id, actor=actor, enqueue=False)
            job = services.commit_job(job.id)
        return job

    return run
