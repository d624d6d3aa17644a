"""The App Store's notification endpoint: Apple posts here, without signing in.

Trust comes from the signed payload alone (the same chain checks as every signed answer), so the
view needs no session and no CSRF token. It only stores; applying happens in a task.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from lookups.models import App
from lookups.services import notification_door
from lookups.services.apps import PRODUCTION, SANDBOX, environments_of, using_app
from lookups.services.notifications import receive
from lookups.sign_in import client_address

# Apple's notifications are a few kilobytes; anything much bigger is not one.
BODY_LIMIT = 64 * 1024


@csrf_exempt
@require_POST
def app_notifications(request: HttpRequest, app_id: int, environment: str) -> HttpResponse:
    """One registered app's URL for one environment: a payload naming another bundle ID, Apple
    ID or environment fails that app's verifier and is refused."""
    environment = {"production": PRODUCTION, "sandbox": SANDBOX}.get(environment)
    app = App.objects.filter(pk=app_id).first()
    if app is None or environment not in environments_of(app):
        raise Http404("No app here uses this URL.")
    with using_app(app, environment):
        return app_store_notifications(request)


@csrf_exempt
@require_POST
def app_store_notifications(request: HttpRequest) -> HttpResponse:
    address = client_address(request) or "unknown"
    if notification_door.too_many_refusals(address):
        # Read from the cache alone: the body is never read, nothing but a counter is written.
        notification_door.count_rate_limited(address)
        answer = JsonResponse({"error": "Too many refused bodies; try again later."}, status=429)
        answer["Retry-After"] = str(notification_door.RATE_WINDOW_SECONDS)
        return answer
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = f"The body is larger than {BODY_LIMIT} bytes."
    if not declared.isdigit() or int(declared) > BODY_LIMIT:
        notification_door.record_refusal(address, too_large, None)
        return JsonResponse({"error": too_large}, status=413)
    body = request.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        notification_door.record_refusal(address, too_large, None)
        return JsonResponse({"error": too_large}, status=413)
    receipt = receive(body, address=address)
    if receipt.refused:
        return JsonResponse({"error": receipt.refused}, status=400)
    return HttpResponse(status=200)
