"""WhatsApp and the second channel: whether a phone cannot take an SMS at all, and the
channel an outbox message failed on before it moved to SMS."""

from tortoise import fields, migrations

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
    ]
