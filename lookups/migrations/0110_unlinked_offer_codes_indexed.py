"""The unlinked offer codes read an index: each purchase keeps when Apple first told of it as an
offer code redeemed, filled here from the notifications kept so far (one UPDATE)."""

from django.db import migrations, models
from django.db.models import Exists, Min, OuterRef, Q, Subquery

OFFER_CODE = 3  # Apple's offerType for an offer code


def fill_offer_code_told_at(apps, schema_editor):
    purchases = apps.get_model("lookups", "Purchase").objects
    news = apps.get_model("lookups", "AppStoreNotification").objects.filter(
        Q(notification_type="OFFER_REDEEMED")
        | Q(notification_type="SUBSCRIBED", transaction__offerType=OFFER_CODE),
        environment=OuterRef("environment"),
        original_transaction_id=OuterRef("original_transaction_id"),
    )
    first_told = (
        news.order_by().values("original_transaction_id").annotate(first=Min("signed_date"))
    )
    purchases.filter(Exists(news)).update(offer_code_told_at=Subquery(first_told.values("first")))


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0090_consumption_answer_request_ids"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchase",
            name="offer_code_told_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_offer_code_told_at, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(
                condition=models.Q(
                    ("app_account_token__isnull", True), ("offer_code_told_at__isnull", False)
                ),
                fields=["environment", "offer_code_told_at", "id"],
                name="purchase_unlinked_offer_code",
            ),
        ),
    ]
