"""Appointments record when the called customer confirmed they are coming (HERE).

A plain nullable column: nothing reads it to order or count a line, so no index.
"""

from tortoise import fields, migrations

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0011_line_sort_key")]

    operations = [
        AddColumn(
            model_name="Appointment",
            name="confirmed_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
