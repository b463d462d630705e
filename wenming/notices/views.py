"""The inbox (我的消息): a mobile page of the signed-in person's own messages.

Unread messages come first. Opening one marks it read and follows its link;
each can also be marked read on its own (htmx swaps the row in place, and
without script the form posts and comes back), or all at once.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from wenming.accounts.models import User
from wenming.notices import policies, services
from wenming.notices.models import Message
from wenming.notices.selectors import inbox as inbox_queryset

INBOX_PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has let only signed-in users through
        raise Http404
    return user


def _own_message(request: HttpRequest, pk: int) -> Message:
    """The caller's message, or 404 whether it does not exist or is someone else's."""
    return get_object_or_404(Message.objects.filter(policies.inbox_q(_user(request))), pk=pk)


def _back_to_inbox(request: HttpRequest) -> HttpResponseRedirect:
    page = request.POST.get("page", "")
    url = reverse("notices:inbox")
    return HttpResponseRedirect(f"{url}?page={page}" if page.isdigit() else url)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    messages = inbox_queryset(_user(request))
    page = Paginator(messages, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    unread_count = messages.filter(read_at__isnull=True).count()
    return render(request, "notices/inbox.html", {"page": page, "unread_count": unread_count})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    message = services.mark_read(actor=_user(request), message=_own_message(request, pk))
    if request.headers.get("HX-Request") == "true":
        # The row in place, and the unread count above the list out of band.
        unread_count = inbox_queryset(_user(request)).filter(read_at__isnull=True).count()
        context = {
            "message": message,
            "page_number": request.POST.get("page"),
            "oob": True,
            "unread_count": unread_count,
        }
        return render(request, "notices/_message.html", context)
    return _back_to_inbox(request)


@login_required
@require_POST
def open_message(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark read and follow the message's link; a link off this site goes back to the inbox."""
    message = services.mark_read(actor=_user(request), message=_own_message(request, pk))
    link = message.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}, require_https=False):
        return HttpResponseRedirect(link)
    return _back_to_inbox(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(actor=_user(request))
    return _back_to_inbox(request)
