import pytest
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.demo.directory import build_directory
from peermentor.people.models import Department, Person, Site, Skill

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple]:
    return list(
        Person.objects.order_by("external_id").values_list(
            "email", "department__name", "site__name", "level", "manager__external_id"
        )
    )


def _wipe() -> None:
    Person.objects.all().delete()
    User.objects.all().delete()
    Department.objects.all().delete()
    Site.objects.all().delete()
    Skill.objects.all().delete()


def test_the_demo_directory_is_the_same_every_time():
    today = timezone.localdate()
    build_directory(password="x", today=today)
    first = _snapshot()
    _wipe()
    build_directory(password="x", today=today)
    assert _snapshot() == first


def test_the_demo_directory_is_a_real_manager_tree():
    build_directory(password="x", today=timezone.localdate())
    assert Person.objects.count() >= 300
    assert Department.objects.count() == 8
    assert Site.objects.count() == 4
    assert len(set(Site.objects.values_list("time_zone", flat=True))) == 3
    top = Person.objects.get(manager__isnull=True)
    assert Person.objects.filter(manager=top).count() == 8  # the heads of department
    # Walking up from anyone reaches the top without a cycle.
    managers = dict(Person.objects.values_list("pk", "manager_id"))
    for start in managers:
        seen, current = set(), start
        while managers[current] is not None:
            assert current not in seen
            seen.add(current)
            current = managers[current]
        assert current == top.pk
