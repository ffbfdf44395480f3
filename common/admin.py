"""API clients in the admin: create, rotate the secret and disable. A new secret is shown once."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from audit.context import Actor
from common.api_clients import (
    KNOWN_SCOPES,
    IssuedCredentials,
    api_client_create,
    api_client_rotate_secret,
    api_client_set_active,
)
from common.errors import DomainError
from common.models import ApiClient


class ApiClientCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in sorted(KNOWN_SCOPES)], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiClient
        fields = ["name", "scopes", "merchant", "partner", "is_platform", "rate_per_second", "burst"]


def _show_secret_once(request: HttpRequest, issued: IssuedCredentials, what: str) -> HttpResponse:
    response = TemplateResponse(
        request,
        "admin/common/apiclient/secret_once.html",
        {"title": what, "credentials": issued.as_dict(), "client": issued.client, "opts": ApiClient._meta},
    )
    response["Cache-Control"] = "no-store"
    return response


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "tenant_label", "scope_list", "is_active", "created_at", "secret_rotated_at")
    list_filter = ("is_active", "is_platform")
    search_fields = ("name", "client_id")
    list_select_related = ("merchant", "partner")
    raw_id_fields = ("merchant", "partner")
    actions = ["rotate_secret", "disable", "enable"]
    readonly_fields = ("client_id", "created_at", "secret_rotated_at")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiClientCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return list(ApiClientCreateForm.Meta.fields)
        return ["name", "client_id", "scopes", "merchant", "partner", "is_platform", "is_active", "rate_per_second",
                "burst", "created_at", "secret_rotated_at"]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple:
        if obj is None:
            return ()
        return (*self.readonly_fields, "merchant", "partner", "is_platform", "is_active")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if request.method != "POST":
            return super().add_view(request, form_url, extra_context)
        form = ApiClientCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                issued = api_client_create(
                    name=data["name"], scopes=data["scopes"], actor=Actor.for_user(request.user),
                    merchant=data["merchant"], partner=data["partner"], platform=data["is_platform"],
                    rate_per_second=data["rate_per_second"], burst=data["burst"],
                )  # fmt: skip
            except DomainError as error:
                messages.error(request, error.message)
                return super().add_view(request, form_url, extra_context)
            except ValidationError as error:  # the model's own constraints (full_clean)
                messages.error(request, "; ".join(error.messages))
                return super().add_view(request, form_url, extra_context)
            return _show_secret_once(request, issued, "API client created")
        return super().add_view(request, form_url, extra_context)

    @admin.display(description="tenant")
    def tenant_label(self, client: ApiClient) -> str:
        return str(client.merchant or client.partner or "platform")

    @admin.display(description="scopes")
    def scope_list(self, client: ApiClient) -> str:
        return ", ".join(client.scopes)

    @admin.action(description="Rotate the secret of the selected client (shows the new one once)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Rotate one client at a time.", messages.WARNING)
            return None
        issued = api_client_rotate_secret(client=queryset.get(), actor=Actor.for_user(request.user))
        return _show_secret_once(request, issued, "Secret rotated")

    @admin.action(description="Disable the selected clients")
    def disable(self, request: HttpRequest, queryset: QuerySet) -> None:
        for client in queryset:
            api_client_set_active(client=client, active=False, actor=Actor.for_user(request.user))
        self.message_user(request, f"Disabled {queryset.count()} client(s); their tokens stop working at once.")

    @admin.action(description="Enable the selected clients")
    def enable(self, request: HttpRequest, queryset: QuerySet) -> None:
        for client in queryset:
            api_client_set_active(client=client, active=True, actor=Actor.for_user(request.user))
        self.message_user(request, f"Enabled {queryset.count()} client(s).")
