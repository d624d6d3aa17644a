from django.urls import path

from . import report_views, views

app_name = "lookups"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/", views.look_up, name="look_up"),
    path("purchases/<str:transaction_id>/history/", views.history, name="history"),
    path("purchases/<str:original_transaction_id>/link/", views.link, name="link"),
    path("token-changes/<int:pk>/adapty/", views.adapty_retry, name="adapty_retry"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/<slug:table>.csv", report_views.export, name="export"),
]
