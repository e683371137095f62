"""Appointments count their LATE moves, keep the travel time their customer gave (AWAY)
and when they were told to head over.

The line's order stays the sort key's (a LATE move sets it). Each change to a line
reads its spots whose customer is on the way and not yet told to head over
(core.services.notices): a partial index holds just those, so a line with none costs
one empty index range, and the rows without a travel time (nearly all) are not in it.
Readers write its condition literally, as line_order does for idx_active_queue.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0012_here")]

    operations = [
        AddColumn(
            model_name="Appointment",
            name="late_moves",
            field=fields.IntField(default=0, db_default=0),
        ),
        AddColumn(
            model_name="Appointment",
            name="travel_minutes",
            field=fields.IntField(null=True),
        ),
        AddColumn(
            model_name="Appointment",
            name="head_over_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            "CREATE INDEX idx_on_their_way ON appointments (service_account_id, day) "
            "WHERE status = 'active' AND travel_minutes IS NOT NULL AND head_over_at IS NULL",
            reverse_sql="DROP INDEX idx_on_their_way",
        ),
    ]
