"""Providers get a phone region and a booking horizon; creates can carry an idempotency key."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0008_line_versions")]

    operations = [
        ops.AddField(
            model_name="ServiceAccount",
            name="country",
            field=fields.CharField(null=True, max_length=2),
        ),
        ops.AddField(
            model_name="ServiceAccount",
            name="booking_horizon_days",
            field=fields.IntField(default=90, db_default=90),
        ),
        ops.CreateModel(
            name="IdempotencyRecord",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("scope", fields.CharField(max_length=64)),
                ("key", fields.CharField(max_length=255)),
                ("request_hash", fields.CharField(max_length=64)),
                ("status", fields.SmallIntField(null=True)),
                ("body", fields.TextField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "idempotency_records",
                "app": "models",
                "unique_together": (("scope", "key"),),
                "indexes": (("created_at",),),
                "pk_attr": "id",
                "table_description": "The first answer to a create sent with an `Idempotency-Key`, for its retries.",
            },
            bases=["Model"],
        ),
    ]
