"""The outbound send budget shared across processes and hosts (core.services.pacing):
one row per limit, the time its next send may start."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0024_retention")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PacingSlot",
            fields=[
                (
                    "key",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128),
                ),
                ("free_at", fields.FloatField()),
            ],
            options={
                "table": "pacing_slots",
                "app": "models",
                "pk_attr": "key",
                "table_description": (
                    "When the next send under one limit may start: a sending number, a Telegram bot,"
                ),
            },
            bases=["Model"],
        ),
    ]
