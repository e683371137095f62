"""Grace periods: providers' grace_minutes and auto_call_next, and the grace_timers a
call writes (its half-time reminder and its expiry).

Workers in every process poll for the timers due and not yet fired; a partial index
holds only those, so the poll reads one small index range however many timers have
fired. Readers write its condition literally (core.services.grace).
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0016_undo")]

    operations = [
        AddColumn(
            model_name="ServiceAccount",
            name="grace_minutes",
            field=fields.FloatField(default=15.0, db_default=15.0),
        ),
        AddColumn(
            model_name="ServiceAccount",
            name="auto_call_next",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.CreateModel(
            name="GraceTimer",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("appointment", fields.ForeignKeyField("models.Appointment", source_field="appointment_id", db_constraint=True, to_field="id", related_name="grace_timers", on_delete=OnDelete.CASCADE)),
                ("kind", fields.CharField(max_length=16)),
                ("called_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("due_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("fired_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("extended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "grace_timers",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A due time of one call's grace period (core.services.grace): its half-time",
            },
            bases=["Model"],
        ),
        ops.RunSQL(
            "CREATE INDEX idx_grace_due ON grace_timers (due_at) WHERE fired_at IS NULL",
            reverse_sql="DROP INDEX idx_grace_due",
        ),
    ]
