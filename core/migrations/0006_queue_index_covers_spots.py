"""The queue index also carries what a spot sums: who is called and for how long.

A customer's STATUS counts and sums everyone ranked ahead of them (hundreds on a busy
day). With called_at and duration_minutes in the index, PostgreSQL answers from the
index alone instead of visiting a table row per person ahead. Key columns rather than
INCLUDE, because the same migration runs on SQLite. The index serves the line order of
core.services.line_order; migration 0011 rebuilds it on the stored sort key.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0005_account_day_index")]

    operations = [
        ops.RunSQL(
            "DROP INDEX idx_active_queue",
            reverse_sql="CREATE INDEX idx_active_queue "
            "ON appointments (service_account_id, day, penalty, created_at, id) "
            "WHERE status = 'active'",
        ),
        ops.RunSQL(
            "CREATE INDEX idx_active_queue "
            "ON appointments (service_account_id, day, penalty, created_at, id, "
            "called_at, duration_minutes) WHERE status = 'active'",
            reverse_sql="DROP INDEX idx_active_queue",
        ),
    ]
