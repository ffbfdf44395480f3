"""`--actor` for vault commands: a user name (the audit row names that user) or the system."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from audit.context import Actor


def resolve_actor(username: str | None, command: str) -> Actor:
    if not username:
        return Actor.system(f"manage.py {command}")
    user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if user is None:
        raise CommandError(f"No user named {username!r}.")
    return Actor.for_user(user)
