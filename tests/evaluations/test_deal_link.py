"""The enterprise on a deal is offered the evaluation form from the deal page."""

from __future__ import annotations

from revive.accounts.models import OrgKind, Role
from revive.inventory.models import EntryStatus
from tests.evaluations.helpers import make_deal
from tests.factories import make_org, make_patent, make_user


def test_deal_page_links_the_enterprise_to_the_evaluation_form(app, client, auth):
    uni, ent = make_org("甲大学"), make_org("乙企业", kind=OrgKind.ENTERPRISE)
    patent = make_patent(uni, status=EntryStatus.ENTERED, title="甲校入库专利")
    deal = make_deal(patent, ent)
    auth.login(make_user(Role.ENTERPRISE, organization=ent))
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f"/evaluations/patents/{patent.id}/evaluate" in page
    auth.logout()
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "/evaluate" not in page  # universities don't evaluate their own patents
