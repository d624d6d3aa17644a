"""Signing in with a second factor: enrolling an authenticator app, then its code each time.

django-otp keeps the devices: one TOTP device (the authenticator app) and one static device
holding ten single-use recovery codes, shown once when enrolling.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10
WRONG = (
    "That code is not right. Type the six digits your authenticator shows now, or a recovery code."
)


@require_http_methods(["GET", "POST"])
@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        device = match_token(request.user, request.POST.get("code", "").strip()[:16])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        error = WRONG
    return render(
        request, "registration/second_factor.html", {"error": error, "next": _next(request)}
    )


@require_http_methods(["GET", "POST"])
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("lookups:second_factor")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    context = {"device": device, "next": _next(request), "error": ""}
    if request.method == "POST":
        if device.verify_token(request.POST.get("code", "").strip()[:16]):
            device.confirmed = True
            device.save()
            context["codes"] = _recovery_codes(user)
            otp_login(request, device)
        else:
            context["error"] = WRONG
    return render(request, "registration/second_factor_enrol.html", context)


def _recovery_codes(user) -> list[str]:
    recovery, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    recovery.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    recovery.token_set.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return codes


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"
