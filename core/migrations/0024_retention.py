"""Retention: the tables pruning keeps (message counts, its runs), the indexes its
statements use, and the inbound dedupe key led by the day a message was received.

Each prune statement finds its rows through an index on the age it tests (outbox
created_at, undo taken_at, a fired timer's fired_at, a status link's day, a code's
created_at, a session's expires_at); inbound records by their key, which the received
day leads. Rows written before this migration get the day of their
created_at.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

from core.migrations._dialects import DropUniqueTogether, RunSQLPerDialect

class Migration(migrations.Migration):
    dependencies = [('models', '0023_languages')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MessageCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField()),
                ('service_account_id', fields.IntField()),
                ('channel', fields.CharField(max_length=16)),
                ('direction', fields.CharField(max_length=8)),
                ('messages', fields.BigIntField()),
                ('segments', fields.BigIntField(default=0)),
            ],
            options={'table': 'message_counts', 'app': 'models', 'unique_together': (('service_account_id', 'direction', 'day', 'channel'),), 'pk_attr': 'id', 'table_description': 'Messages of one day, per provider, channel and direction ("in", "sent", "unsent"),'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PruneRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'prune_runs', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One prune: when it ran and how many rows of each table went (`deleted`).'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='ConsoleSession',
            index=Index(fields=['expires_at']),
        ),
        DropUniqueTogether(
            model_name='InboundMessage',
            name=None,
            fields=['channel', 'external_id'],
        ),
        ops.AddField(
            model_name='InboundMessage',
            name='received_on',
            field=fields.DateField(null=True),
        ),
        RunSQLPerDialect(
            {
                "sqlite": ["UPDATE inbound_messages SET received_on = substr(created_at, 1, 10)"],
                "postgres": [
                    "UPDATE inbound_messages SET received_on = (created_at AT TIME ZONE 'UTC')::date"
                ],
            },
            reverse_sql={"sqlite": [], "postgres": []},
        ),
        ops.AddConstraint(
            model_name='InboundMessage',
            constraint=UniqueConstraint(fields=('received_on', 'channel', 'external_id'), name=None),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['created_at']),
        ),
        ops.AddIndex(
            model_name='SignInCode',
            index=Index(fields=['created_at']),
        ),
        ops.AddIndex(
            model_name='StatusLink',
            index=Index(fields=['day']),
        ),
        ops.AddIndex(
            model_name='UndoSnapshot',
            index=Index(fields=['taken_at']),
        ),
        ops.RunSQL(
            "CREATE INDEX idx_grace_fired ON grace_timers (fired_at) WHERE fired_at IS NOT NULL",
            reverse_sql="DROP INDEX idx_grace_fired",
        ),
    ]
