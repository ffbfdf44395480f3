from django.contrib.admin.apps import AdminConfig


class StrongroomAdminConfig(AdminConfig):
    """The Django admin, served by the branded Strongroom site with its status dashboard."""

    default_site = "common.admin_site.StrongroomAdminSite"
