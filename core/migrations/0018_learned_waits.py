"""Learned waits: each provider's profile of measured service times, and the wait each
appointment was quoted at joining.

Plain nullable columns: the profile rides on the provider row that booking, spots and
standings already read, and the quote is written by booking's own INSERT, so neither
costs an index or a statement.
"""

from tortoise import fields, migrations

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0017_grace")]

    operations = [
        AddColumn(
            model_name="ServiceAccount", name="wait_profile", field=fields.JSONField(null=True)
        ),
        AddColumn(
            model_name="ServiceAccount",
            name="wait_profile_day",
            field=fields.DateField(null=True),
        ),
        AddColumn(
            model_name="Appointment", name="quoted_wait_minutes", field=fields.IntField(null=True)
        ),
    ]
