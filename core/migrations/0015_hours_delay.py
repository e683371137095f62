"""Providers' opening hours and closed dates.

Plain nullable JSON columns on service_accounts: booking reads them with the provider
row it already reads, so no index and no extra statement.
"""

from tortoise import fields, migrations

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0012_here")]

    operations = [
        AddColumn(model_name="ServiceAccount", name="hours", field=fields.JSONField(null=True)),
        AddColumn(
            model_name="ServiceAccount", name="closed_dates", field=fields.JSONField(null=True)
        ),
    ]
