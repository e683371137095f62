"""Provider actions keep a snapshot of what they changed, for UNDO (undo_snapshots).

Read only by UNDO, per provider, newest first: one index on (service_account_id, id).
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from core.models import Status


class Migration(migrations.Migration):
    dependencies = [("models", "0015_hours_delay")]

    operations = [
        ops.CreateModel(
            name="UndoSnapshot",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("service_account", fields.ForeignKeyField("models.ServiceAccount", source_field="service_account_id", db_constraint=True, to_field="id", related_name="undo_snapshots", on_delete=OnDelete.CASCADE)),
                ("action", fields.CharField(max_length=16)),
                ("appointment", fields.ForeignKeyField("models.Appointment", source_field="appointment_id", db_constraint=True, to_field="id", related_name="undo_snapshots", on_delete=OnDelete.CASCADE)),
                ("prior_status", fields.CharEnumField(enum_type=Status, max_length=16)),
                ("prior_status_changed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("prior_called_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("prior_confirmed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("score_touched", fields.BooleanField(default=False)),
                ("prior_cancellations", fields.FloatField(null=True)),
                ("prior_no_shows", fields.FloatField(null=True)),
                ("prior_as_of", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("after_cancellations", fields.FloatField(null=True)),
                ("after_no_shows", fields.FloatField(null=True)),
                ("after_as_of", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("taken_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("undone_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "undo_snapshots",
                "app": "models",
                "indexes": (("service_account_id", "id"),),
                "pk_attr": "id",
                "table_description": "What one provider action changed, as it was just before, so UNDO can put it back.",
            },
            bases=["Model"],
        ),
    ]
