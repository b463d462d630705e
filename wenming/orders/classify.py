"""The service menu as a classifier: which service type a resident's words point to.

``lib.text`` does the Chinese (jieba segmentation, weighting, the evidence);
this module feeds it the active service types and keeps the result an order
stores, so that staff see the words used and the confidence, and can
override the type.
"""

from __future__ import annotations

import threading
from typing import Any

from wenming.lib.text import Category, Classification, Classifier
from wenming.orders.models import OrderKind, ServiceType

_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], Classifier] | None = None


def _catalogue() -> tuple[tuple[Any, ...], list[Category]]:
    rows = list(
        ServiceType.objects.filter(kind=OrderKind.SERVICE, is_active=True)
        .order_by("id")
        .values_list("id", "name", "keywords", "description")
    )
    key = tuple((pk, name, tuple(kw or ()), desc) for pk, name, kw, desc in rows)
    categories = [
        Category(key=pk, name=name, keywords=tuple(str(k) for k in (kw or ())), description=desc)
        for pk, name, kw, desc in rows
    ]
    return key, categories


def classifier() -> Classifier:
    """The classifier for the current menu, rebuilt only when the menu changes."""
    global _cached
    key, categories = _catalogue()
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, Classifier(categories))
        return _cached[1]


def classify(text: str) -> Classification:
    return classifier().classify(text)


def as_record(result: Classification) -> dict[str, Any]:
    """What an order keeps of a classification (JSON): the suggestion, its confidence and the words."""
    return {
        "type": result.best.key if result.best is not None else None,
        "confidence": round(result.confidence, 3),
        "words": [e.word for e in result.evidence],
        "ranked": [{"type": c.key, "p": round(p, 3)} for c, p in result.ranked[:3]],
    }


def classify_service(text: str) -> tuple[ServiceType | None, dict[str, Any]]:
    result = classify(text)
    record = as_record(result)
    if result.best is None:
        return None, record
    return ServiceType.objects.get(pk=result.best.key), record
