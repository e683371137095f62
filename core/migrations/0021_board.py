"""The lobby board: whether a provider's board is public, what it shows for a spot
(names or ticket numbers), the hash of its board key, and each spot's ticket number.

The ticket's uniqueness per provider and day is a partial unique index over the
numbered spots only, so providers that show names (NULL tickets) keep their bookings'
one insert free of it.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0020_console")]

    operations = [
        AddColumn(
            model_name="ServiceAccount",
            name="board_public",
            field=fields.BooleanField(default=True, db_default=True),
        ),
        AddColumn(
            model_name="ServiceAccount",
            name="board_names",
            field=fields.CharField(max_length=8, default="name", db_default="name"),
        ),
        AddColumn(
            model_name="ServiceAccount",
            name="board_key_hash",
            field=fields.CharField(max_length=64, null=True),
        ),
        AddColumn(model_name="Appointment", name="ticket", field=fields.IntField(null=True)),
        ops.RunSQL(
            "CREATE UNIQUE INDEX uniq_ticket_per_day ON appointments "
            "(service_account_id, day, ticket) WHERE ticket IS NOT NULL",
            reverse_sql="DROP INDEX uniq_ticket_per_day",
        ),
    ]
