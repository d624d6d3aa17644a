"""Who must sign in with a second factor, and the middleware that holds them to it.

The password alone signs a member of SECOND_FACTOR_GROUPS in only as far as the second-factor
pages: every other page sends them there until this session has passed a code from their
authenticator (or a recovery code). Without a device yet, they enrol first.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from lookups.permissions_backend import second_factor_groups

SUPERUSERS = "superusers"
# Reachable before the second factor: its own pages, signing out, and files.
_OPEN_PATHS = ("second_factor", "second_factor_enrol")


def required_for(user) -> bool:
    groups = set(settings.SECOND_FACTOR_GROUPS)
    if not groups or not user.is_authenticated:
        return False
    if SUPERUSERS in groups and user.is_superuser:
        return True
    if not user.is_active:
        return user.groups.filter(name__in=groups).exists()
    # Read with the user's permissions, which the page asks for next: one query for both.
    return bool(second_factor_groups(user) & groups)


class SecondFactorRequired:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not self._open(request.path)
            and required_for(user)
        ):
            page = (
                "lookups:second_factor" if user_has_device(user) else "lookups:second_factor_enrol"
            )
            return redirect(f"{reverse(page)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        allowed = [reverse(f"lookups:{name}") for name in _OPEN_PATHS]
        allowed += [reverse("logout"), settings.STATIC_URL or "/static/"]
        return any(path.startswith(prefix) for prefix in allowed)
