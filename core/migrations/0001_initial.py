from tortoise import migrations
from tortoise.migrations import operations as ops
from core.models import Status
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ServiceAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('phone', fields.CharField(unique=True, max_length=20)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('description', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('enable_cancellation_scoring', fields.BooleanField(default=True)),
                ('cancellation_weight', fields.FloatField(default=1.0)),
                ('no_show_weight', fields.FloatField(default=2.0)),
                ('timezone', fields.CharField(default='UTC', max_length=64)),
                ('penalty_half_life_days', fields.FloatField(default=30.0)),
            ],
            options={'table': 'service_accounts', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('phone', fields.CharField(unique=True, max_length=20)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Appointment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.CASCADE)),
                ('service_account', fields.ForeignKeyField('models.ServiceAccount', source_field='service_account_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.CASCADE)),
                ('appointment_date', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('day', fields.DateField()),
                ('duration_minutes', fields.IntField(default=30)),
                ('notes', fields.TextField(null=True, unique=False)),
                ('status', fields.CharEnumField(default=Status.ACTIVE, description='ACTIVE: active\nCANCELED: canceled\nCOMPLETED: completed\nNO_SHOW: no_show', enum_type=Status, max_length=16)),
                ('penalty', fields.FloatField(default=0.0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('status_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'appointments', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReliabilityScore',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.CASCADE)),
                ('service_account', fields.ForeignKeyField('models.ServiceAccount', source_field='service_account_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.CASCADE)),
                ('cancellations', fields.FloatField(default=0.0)),
                ('no_shows', fields.FloatField(default=0.0)),
                ('as_of', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reliability_scores', 'app': 'models', 'unique_together': (('user', 'service_account'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
