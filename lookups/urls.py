from django.urls import path

from lookups.views import (
    accounts,
    extensions,
    linking,
    live,
    notifications,
    orders,
    refund_history,
    refund_requests,
    reports,
    trainer,
    transfers,
    unlinked,
)

app_name = "lookups"

urlpatterns = [
    path("", orders.home, name="home"),
    path("live/", live.poll, name="live"),
    path("live/counts/", live.menu_counts, name="menu_counts"),
    path("orders/", orders.look_up, name="look_up"),
    path("purchases/unlinked/", unlinked.unlinked, name="unlinked"),
    path("purchases/<str:transaction_id>/history/", orders.history, name="history"),
    path("purchases/<str:original_transaction_id>/link/", linking.link, name="link"),
    path("token-changes/<int:pk>/", linking.link_status, name="link_status"),
    path("token-changes/<int:pk>/adapty/", linking.adapty_retry, name="adapty_retry"),
    path("purchases/<str:original_transaction_id>/extend/", extensions.extend, name="extend"),
    path("extensions/", extensions.approvals, name="extension_approvals"),
    path(
        "extensions/<uuid:pk>/<slug:decision>/",
        extensions.decide,
        name="decide_extension",
    ),
    path("refund-requests/", refund_requests.queue, name="refund_requests"),
    path(
        "refund-requests/<int:pk>/answer/",
        refund_requests.answer,
        name="answer_refund_request",
    ),
    path("transfers/", transfers.transfers, name="transfers"),
    path("transfers/<int:pk>/<slug:decision>/", transfers.decide, name="decide_transfer"),
    path("accounts/", accounts.accounts, name="accounts"),
    path("accounts/<int:pk>/", accounts.account, name="account"),
    path(
        "accounts/<int:pk>/purchases/<str:original_transaction_id>/refunds/",
        refund_history.account_refunds,
        name="account_refunds",
    ),
    path("reports/", reports.reports, name="reports"),
    path("reports/<slug:table>.csv", reports.export, name="export"),
    path("trainer/life/", trainer.life_step, name="trainer_life"),
    path(
        "trainer/notifications/<str:notification_uuid>/",
        trainer.life_notification,
        name="trainer_notification",
    ),
    path(
        "appstore/notifications/",
        notifications.app_store_notifications,
        name="appstore_notifications",
    ),
]
