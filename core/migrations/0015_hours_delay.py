"""Providers' opening hours and closed dates, and the day's DELAY.

Plain nullable columns on service_accounts: booking, spots and standings read them with
the provider row they already read, so no index and no extra statement.
"""

from tortoise import fields, migrations

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0014_capacity")]

    operations = [
        AddColumn(model_name="ServiceAccount", name="hours", field=fields.JSONField(null=True)),
        AddColumn(
            model_name="ServiceAccount", name="closed_dates", field=fields.JSONField(null=True)
        ),
        AddColumn(
            model_name="ServiceAccount", name="delay_minutes", field=fields.IntField(null=True)
        ),
        AddColumn(model_name="ServiceAccount", name="delay_day", field=fields.DateField(null=True)),
    ]
