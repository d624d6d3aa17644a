from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("lookups.urls")),
]

if settings.BENCHMARK_STACK_LIMIT:
    # Only benchmarks/notifications_ingest.py turns this on: never mounted in production.
    from supportdesk.stack_limit import stack_limit

    urlpatterns.append(path("benchmark/stack-limit/", stack_limit))
