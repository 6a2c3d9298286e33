from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from firstring.conversations.live import publish_forwarded
from firstring.lib.errors import DomainError
from firstring.ops.services import health


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    ok, report = health()
    return JsonResponse(report, status=200 if ok else 503)


@csrf_exempt  # a worker's signed request, not a browser's form
@require_POST
def live_forward(request: HttpRequest) -> HttpResponse:
    """Live updates from a worker process, published to the websockets this process serves."""
    try:
        publish_forwarded(body=request.body, signature=request.headers.get("X-Firstring-Signature", ""))
    except DomainError as error:
        return JsonResponse({"detail": str(error)}, status=error.status_code)
    return HttpResponse(status=204)
