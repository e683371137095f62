"""Appointments count their LATE moves, keep the travel time their customer gave (AWAY)
and when they were told to head over.

Plain columns: the line's order stays the sort key's (a LATE move sets it), and only a
changed line's few spots with a travel time are read for them, so no index.
"""

from tortoise import fields, migrations

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
    ]
