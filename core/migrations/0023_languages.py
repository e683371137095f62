"""Languages: the one a phone is written in (None until its texts tell it), and each
provider's own, for its replies and its customers who have not written yet."""

from tortoise import fields, migrations

from core.migrations._dialects import AddColumn


class Migration(migrations.Migration):
    dependencies = [("models", "0022_whatsapp_failover")]

    operations = [
        AddColumn(
            model_name="Contact", name="language", field=fields.CharField(max_length=8, null=True)
        ),
        AddColumn(
            model_name="ServiceAccount",
            name="language",
            field=fields.CharField(max_length=8, default="en", db_default="en"),
        ),
    ]
