from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from lookups.sign_in import lockout_terms

urlpatterns = [
    path(
        "login/",
        # A callable: the template reads the settings at each render.
        auth_views.LoginView.as_view(extra_context={"lockout": lockout_terms}),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("lookups.urls")),
]

if settings.BENCHMARK_STACK_LIMIT:
    # Only benchmarks/notifications_ingest.py turns this on: never mounted in production.
    from supportdesk.stack_limit import stack_limit

    urlpatterns.append(path("benchmark/stack-limit/", stack_limit))
