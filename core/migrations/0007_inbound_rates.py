"""The inbound flood limit keeps a counter per phone instead of counting its messages.

Counting a phone's messages of the last minute read every one of them twice per
delivery (the count, and whether one was told to slow down), and a busy table made
that the dearest statement of an SMS. A counter row per (channel, phone) is one
upsert whatever the phone sent; the (phone, created_at) index served only that count.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0006_queue_index_covers_spots")]

    operations = [
        ops.CreateModel(
            name="InboundRate",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("channel", fields.CharField(max_length=16)),
                ("phone", fields.CharField(max_length=20)),
                ("window_start", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("seen", fields.IntField()),
            ],
            options={
                "table": "inbound_rates",
                "app": "models",
                "unique_together": (("channel", "phone"),),
                "pk_attr": "id",
                "table_description": "A phone's inbound message count in its current one-minute window, per channel.",
            },
            bases=["Model"],
        ),
        ops.RemoveIndex(model_name="InboundMessage", fields=["phone", "created_at"]),
    ]
