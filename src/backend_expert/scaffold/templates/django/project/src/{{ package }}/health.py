"""Liveness and readiness for load balancers and orchestrators."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Answers 200 when the process and its database respond."""
    connection.ensure_connection()
    return JsonResponse({"status": "ok"})
