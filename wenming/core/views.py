from django.http import HttpRequest, JsonResponse


def bench_baseline(request: HttpRequest) -> JsonResponse:
    """The benchmarks' baseline: a bare Django JSON view, served like the rest."""
    return JsonResponse({"status": "ok"})
