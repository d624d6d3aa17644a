from django.urls import path

from . import views

app_name = "lookups"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/", views.look_up, name="look_up"),
    path("purchases/<str:transaction_id>/history/", views.history, name="history"),
    path("purchases/<str:original_transaction_id>/link/", views.link, name="link"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account, name="account"),
]
