"""Merchants and partners, shared by every app. The platform itself is a tenant with no row."""

from django.db import models


class Merchant(models.Model):
    """A business whose card payments the platform processes."""

    reference = models.SlugField(max_length=64, unique=True, help_text="Stable external reference, e.g. 'acme-gmbh'.")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.reference}, pk={self.pk})"


class PartnerKind(models.TextChoices):
    SPONSOR_BANK = "sponsor_bank", "Sponsor bank"
    ACQUIRER = "acquirer", "Acquirer"
    PLATFORM = "platform", "Platform"
    OTHER = "other", "Other"


class Partner(models.Model):
    """An institution that works with the platform (sponsor bank, acquirer …) and serves merchants."""

    reference = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PartnerKind.choices, default=PartnerKind.OTHER)
    merchants = models.ManyToManyField(Merchant, blank=True, related_name="partners")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.reference}, pk={self.pk})"
