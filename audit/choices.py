from django.db import models


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff user"
    API_CLIENT = "api_client", "API client"
    PARTNER = "partner", "Partner"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous (e.g. a failed login)"
