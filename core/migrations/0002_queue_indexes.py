"""Partial indexes that carry the product's rules.

Written as RunSQL because Tortoise leaves conditional constraints out of CreateModel;
the same SQL runs on SQLite and PostgreSQL.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        # One ACTIVE appointment per user per day, across all service accounts.
        ops.RunSQL(
            "CREATE UNIQUE INDEX uniq_active_appointment_per_user_day "
            "ON appointments (user_id, day) WHERE status = 'active'",
            reverse_sql="DROP INDEX uniq_active_appointment_per_user_day",
        ),
        # The queue: filter by provider and day, in line order (core.services.line_order
        # defines it; migration 0011 rebuilds this index on the stored sort key).
        ops.RunSQL(
            "CREATE INDEX idx_active_queue "
            "ON appointments (service_account_id, day, penalty, created_at, id) "
            "WHERE status = 'active'",
            reverse_sql="DROP INDEX idx_active_queue",
        ),
        ops.RunSQL(
            "CREATE INDEX idx_appointments_user ON appointments (user_id, day)",
            reverse_sql="DROP INDEX idx_appointments_user",
        ),
    ]
