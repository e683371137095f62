"""Status links: each customer's links to the live page of a visit (/s/<token>).

The token's SHA-256 is the unique key a page is read by; the raw token is never
stored. The appointment's day rides on the row: a link ends with its day.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0018_learned_waits")]

    operations = [
        ops.CreateModel(
            name="StatusLink",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_hash", fields.CharField(max_length=64, unique=True)),
                ("appointment", fields.ForeignKeyField("models.Appointment", source_field="appointment_id", db_constraint=True, to_field="id", related_name="status_links", on_delete=OnDelete.CASCADE)),
                ("day", fields.DateField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "status_links",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A customer's link to one visit's status page (token stored hashed)",
            },
            bases=["Model"],
        ),
    ]
