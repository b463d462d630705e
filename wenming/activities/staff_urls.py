"""Staff pages of activities (/staff/...), the check-in pages and the public news of a site.

The scanner and self check-in paths are the ones the QR codes carry
(``services.SCAN_PATH`` and ``services.SELF_CHECKIN_PATH``); a test checks they resolve here.
"""

from django.urls import path

from wenming.activities import staff

app_name = "activities_staff"
urlpatterns = [
    path("staff/activities/", staff.activity_list, name="list"),
    path("staff/activities/new/", staff.activity_new, name="new"),
    path("staff/activities/series/new/", staff.series_new, name="series_new"),
    path("staff/activities/approvals/", staff.approvals, name="approvals"),
    path("staff/activities/<int:pk>/", staff.activity_detail, name="detail"),
    path("staff/activities/<int:pk>/edit/", staff.activity_edit, name="edit"),
    path("staff/activities/<int:pk>/posts/", staff.add_post, name="add_post"),
    path("staff/activities/<int:pk>/photos/", staff.activity_photos, name="photos"),
    path("staff/activities/<int:pk>/photos/<int:photo_pk>/remove/", staff.photo_remove, name="photo_remove"),
    path(
        "staff/activities/<int:pk>/photos/<int:photo_pk>/earlier/", staff.photo_move, {"by": -1}, name="photo_earlier"
    ),
    path("staff/activities/<int:pk>/photos/<int:photo_pk>/later/", staff.photo_move, {"by": 1}, name="photo_later"),
    path("staff/activities/<int:pk>/submit/", staff.activity_move, {"action": "submit"}, name="submit"),
    path("staff/activities/<int:pk>/approve/", staff.activity_move, {"action": "approve"}, name="approve"),
    path("staff/activities/<int:pk>/return/", staff.activity_move, {"action": "return"}, name="return"),
    path("staff/activities/<int:pk>/cancel/", staff.activity_move, {"action": "cancel"}, name="cancel"),
    path("staff/activities/<int:pk>/skip/", staff.activity_move, {"action": "skip"}, name="skip"),
    path("staff/activities/<int:pk>/signups/", staff.signups, name="signups"),
    path("staff/activities/<int:pk>/signups.xlsx", staff.signups_xlsx, name="signups_xlsx"),
    path("staff/activities/<int:pk>/signups/<int:signup_pk>/cancel/", staff.signup_cancel, name="signup_cancel"),
    path("staff/activities/<int:pk>/signups/<int:signup_pk>/attend/", staff.signup_attend, name="signup_attend"),
    path("staff/activities/<int:pk>/scan/", staff.activity_scan, name="activity_scan"),
    path("staff/activities/<int:pk>/onsite-qr/", staff.onsite_qr, name="onsite_qr"),
    path("staff/activities/<int:pk>/recap/", staff.recap_edit, name="recap"),
    path("staff/activities/<int:pk>/recap/photos/", staff.recap_photos, name="recap_photos"),
    path("staff/scan/", staff.scan, name="scan"),
    path("staff/corrections/", staff.corrections, name="corrections"),
    path("staff/corrections/<int:pk>/decide/", staff.correction_decide, name="correction_decide"),
    path("activities/<int:pk>/checkin/", staff.self_checkin, name="self_checkin"),
    path("activities/signups/<int:pk>/correction/", staff.correction_request, name="correction_request"),
    path("sites/<int:pk>/news/", staff.site_news, name="site_news"),
    path("news/<int:pk>/", staff.recap_page, name="recap_page"),
    path("news/photos/<int:pk>", staff.recap_photo, name="recap_photo"),
]
