"""A plain index for reads of a provider's appointments by day, whatever their status.

The partial indexes serve queries that say status = 'active' literally; the ORM sends
the status as a bind parameter, and PostgreSQL's generic plans cannot match a partial
index to it, so without this those reads scanned the whole table.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0004_outbox_delivery")]

    operations = [
        ops.RunSQL(
            "CREATE INDEX idx_appointments_account_day "
            "ON appointments (service_account_id, day, status)",
            reverse_sql="DROP INDEX idx_appointments_account_day",
        ),
    ]
