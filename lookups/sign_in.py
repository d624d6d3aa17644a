"""Who is signing in, as far as lockouts after failed sign-ins are concerned."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address the sign-in came from.

    Behind the TLS proxy every request arrives from the proxy, so the client is the address the
    proxy appended to X-Forwarded-For: the last one. Earlier entries come from the client itself
    and can say anything, so they are never trusted.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")


def attempted_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username a sign-in tried, cut to the 255 characters django-axes can store.

    Django's sign-in forms don't limit its length before checking the password, and a longer
    one would make recording the failure fail.
    """
    field = get_user_model().USERNAME_FIELD
    value = credentials.get(field) if credentials else request.POST.get(field)
    return value[:255] if isinstance(value, str) else value


def lockout_terms() -> dict[str, int]:
    """What the sign-in page tells everyone about lockouts, from the settings."""
    return {
        "failures": settings.AXES_FAILURE_LIMIT,
        "minutes": max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)),
    }
