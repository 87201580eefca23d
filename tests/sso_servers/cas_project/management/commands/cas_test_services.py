"""Declare the services the tests' CAS server issues tickets for: any address
on loopback (the live server's callbacks, the test client's, and the "other
site" of the tampering tests), each told these attributes."""

from cas_server.models import ReplaceAttributName, ServicePattern
from django.core.management.base import BaseCommand

PATTERN = r"^https?://(127\.0\.0\.1|localhost)(:[0-9]+)?/.*$"
ATTRIBUTES = ("uid", "mail", "displayName", "givenName", "sn", "eduPersonAffiliation")


class Command(BaseCommand):
    help = "Allow loopback services and release the test attributes to them."

    def handle(self, *args, **options):
        pattern, _created = ServicePattern.objects.get_or_create(
            pattern=PATTERN, defaults={"name": "loopback", "pos": 1})
        for name in ATTRIBUTES:
            ReplaceAttributName.objects.get_or_create(name=name, replace="",
                                                      service_pattern=pattern)
        self.stdout.write(f"service pattern {pattern.pattern} with {', '.join(ATTRIBUTES)}")
