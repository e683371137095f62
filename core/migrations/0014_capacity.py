"""Providers' capacity: people waiting at once, bookings per day, chairs, and CLOSE's day.

Plain columns read with the provider's row by booking's one read: no index.
"""

from tortoise import fields, migrations

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0013_late_away")]

    operations = [
        AddColumn(model_name="ServiceAccount", name="max_waiting", field=fields.IntField(null=True)),
        AddColumn(model_name="ServiceAccount", name="daily_limit", field=fields.IntField(null=True)),
        AddColumn(
            model_name="ServiceAccount",
            name="chairs",
            field=fields.IntField(default=1, db_default=1),
        ),
        AddColumn(model_name="ServiceAccount", name="closed_on", field=fields.DateField(null=True)),
    ]
