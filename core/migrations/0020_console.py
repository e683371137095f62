"""The provider console: sign-in codes, sessions and staff phones.

Codes are found by phone (the hourly limit and the latest live code); sessions by the
hash of their id (unique); staff phones by phone (unique: a phone is staff of one
provider at most), which is how a text from a staff phone finds its provider.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0019_status_links")]

    operations = [
        ops.CreateModel(
            name="SignInCode",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("phone", fields.CharField(max_length=20, db_index=True)),
                ("code_hash", fields.CharField(max_length=128)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("tries", fields.IntField(default=0)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "console_codes",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A 6-digit code sent to a phone to sign in to the console (only its hash is kept).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ConsoleSession",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_hash", fields.CharField(max_length=64, unique=True)),
                ("service_account", fields.ForeignKeyField("models.ServiceAccount", source_field="service_account_id", db_constraint=True, to_field="id", related_name="console_sessions", on_delete=OnDelete.CASCADE)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "console_sessions",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A signed-in console: the cookie holds the id, the table only its hash.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffPhone",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("service_account", fields.ForeignKeyField("models.ServiceAccount", source_field="service_account_id", db_constraint=True, to_field="id", related_name="staff", on_delete=OnDelete.CASCADE)),
                ("phone", fields.CharField(max_length=20, unique=True)),
            ],
            options={
                "table": "staff_phones",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A phone other than the provider's own that may sign in to its console and send",
            },
            bases=["Model"],
        ),
    ]
