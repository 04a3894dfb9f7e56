"""Directory reads other apps rely on: manager chains for matching, and who may list people."""

import pytest
from django.core.exceptions import PermissionDenied

from peermentor.people.models import Person
from peermentor.people.selectors import person_list, reporting_chain_ids, reporting_chains
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    ceo = PersonFactory(full_name="CEO")
    vp = PersonFactory(manager=ceo)
    lead = PersonFactory(manager=vp)
    engineer = PersonFactory(manager=lead)
    return ceo, vp, lead, engineer


def test_reporting_chain_goes_up_from_the_direct_manager_in_one_query(
    chain, django_assert_num_queries
):
    ceo, vp, lead, engineer = chain
    with django_assert_num_queries(1):
        assert reporting_chain_ids(engineer) == [lead.pk, vp.pk, ceo.pk]
    with django_assert_num_queries(0):
        assert reporting_chain_ids(ceo) == []


def test_reporting_chain_stops_at_a_cycle(chain):
    ceo, vp, lead, engineer = chain
    # A cycle cannot come from the import; an admin could still create one by hand.
    Person.objects.filter(pk=ceo.pk).update(manager=lead)
    ceo.refresh_from_db()
    assert reporting_chain_ids(engineer) == [lead.pk, vp.pk, ceo.pk]
    assert reporting_chain_ids(ceo) == [lead.pk, vp.pk]


def test_reporting_chains_for_many_people_in_one_query(chain, django_assert_num_queries):
    ceo, vp, lead, engineer = chain
    with django_assert_num_queries(1):
        chains = reporting_chains(person_ids=[engineer.pk, ceo.pk])
    assert chains == {engineer.pk: [lead.pk, vp.pk, ceo.pk], ceo.pk: []}
    assert reporting_chains()[vp.pk] == [ceo.pk]


def test_person_list_refuses_anyone_but_an_org_admin():
    PersonFactory()
    with pytest.raises(PermissionDenied):
        person_list(viewer=UserFactory())
    assert person_list(viewer=UserFactory(is_org_admin=True)).count() == 1


def test_inactive_admin_account_cannot_list():
    with pytest.raises(PermissionDenied):
        person_list(viewer=UserFactory(is_org_admin=True, is_active=False))


def test_admin_form_refuses_a_manager_who_reports_to_the_person(chain):
    from peermentor.people.admin import PersonAdminForm

    ceo, vp, _lead, engineer = chain

    def form_for(person, manager):
        data = {
            "external_id": person.external_id,
            "full_name": person.full_name,
            "email": person.email,
            "time_zone": "UTC",
            "languages": "[]",
            "is_active": "on",
            "manager": manager.pk,
        }
        return PersonAdminForm(data, instance=person)

    cyclic = form_for(ceo, engineer)
    assert not cyclic.is_valid()
    assert "cycle" in cyclic.errors["manager"][0]
    assert not form_for(ceo, ceo).is_valid()
    assert form_for(engineer, vp).is_valid(), form_for(engineer, vp).errors
