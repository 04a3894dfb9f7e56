import pytest
from django.core.management import call_command
from django.urls import reverse

from peermentor.accounts.models import User
from peermentor.demo.builder import DEMO_PASSWORD, demo_load
from peermentor.people.models import Department, Person, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return demo_load()


def test_the_demo_organisation_is_a_realistic_directory(demo):
    assert Person.objects.count() >= 300
    assert Department.objects.count() == 8
    assert Site.objects.count() == 4
    assert len(set(Site.objects.values_list("time_zone", flat=True))) == 3
    # A real tree: one person at the top, everyone else reports to someone.
    assert Person.objects.filter(manager__isnull=True).count() == 1
    top = Person.objects.get(manager__isnull=True)
    assert Person.objects.filter(manager=top).count() == 8  # the heads of department


def test_loading_twice_changes_nothing(demo):
    before = Person.objects.count(), User.objects.count()
    assert demo_load().already_loaded
    assert (Person.objects.count(), User.objects.count()) == before


def test_the_demo_is_the_same_every_time(demo):
    first = list(Person.objects.order_by("external_id").values_list("email", "department__name"))
    Person.objects.all().delete()
    User.objects.all().delete()
    Department.objects.all().delete()
    Site.objects.all().delete()
    from peermentor.people.models import Skill

    Skill.objects.all().delete()
    demo_load()
    again = list(Person.objects.order_by("external_id").values_list("email", "department__name"))
    assert again == first


@pytest.mark.parametrize("email", ["admin@example.org", "ana@example.org"])
def test_both_demo_accounts_can_sign_in(demo, client, email):
    response = client.post(
        reverse("login"), {"username": email, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.context["user"].email == email


def test_only_the_admin_demo_account_is_an_admin(demo):
    assert User.objects.get(email="admin@example.org").is_org_admin
    assert not User.objects.get(email="ana@example.org").is_org_admin


def test_the_command_says_how_to_sign_in(capsys):
    call_command("load_demo")
    assert "ana@example.org" in capsys.readouterr().out
