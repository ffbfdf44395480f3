from django.contrib import admin

from tenants.models import Merchant, Partner


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("reference", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("reference", "name")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("reference", "name", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("reference", "name")
    filter_horizontal = ("merchants",)
