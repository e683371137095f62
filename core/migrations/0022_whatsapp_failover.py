"""WhatsApp, the second channel and what messages cost: whether a phone cannot take an
SMS at all, the channel an outbox message failed on before it moved to SMS, and the
provider whose line a message is about (STATS count a provider's messages sent)."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0021_board")]

    operations = [
        AddColumn(
            model_name="Contact",
            name="sms_undeliverable",
            # The inbound path's raw upsert into contacts names no such column.
            field=fields.BooleanField(default=False, db_default=False),
        ),
        AddColumn(
            model_name="OutboxMessage",
            name="failed_over_from",
            field=fields.CharField(null=True, max_length=16),
        ),
        AddColumn(
            model_name="OutboxMessage",
            name="service_account_id",
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name="OutboxMessage",
            index=Index(fields=["service_account_id", "sent_at"]),
        ),
    ]
