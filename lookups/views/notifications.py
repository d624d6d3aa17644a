"""The App Store's notification endpoint: Apple posts here, without signing in.

Trust comes from the signed payload alone (the same chain checks as every signed answer), so the
view needs no session and no CSRF token. It only stores; applying happens in a task.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from lookups.services.notifications import receive

# Apple's notifications are a few kilobytes; anything much bigger is not one.
BODY_LIMIT = 64 * 1024


@csrf_exempt
@require_POST
def app_store_notifications(request: HttpRequest) -> HttpResponse:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > BODY_LIMIT:
        return JsonResponse({"error": f"The body is larger than {BODY_LIMIT} bytes."}, status=413)
    body = request.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        return JsonResponse({"error": f"The body is larger than {BODY_LIMIT} bytes."}, status=413)
    receipt = receive(body)
    if receipt.refused:
        return JsonResponse({"error": receipt.refused}, status=400)
    return HttpResponse(status=200)
