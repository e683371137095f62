"""Each spot's sort key is stored: appointments get rank_penalty and rank_at.

The order of a line is defined once, in core.services.line_order: waiting appointments
by (rank_penalty, rank_at, id). Booking sets the key to (penalty, created_at); a spot
can then be moved by setting its key, its stored penalty unchanged. Existing rows get
the key they ranked by before, so no line changes order.

idx_active_queue is rebuilt on the key, with the columns a spot sums (as 0006 did) and
the same condition, which readers write literally (status = 'active').

A row inserted without a key (plain SQL, a build of the server from before this
migration serving the same database) gets its first key from the database: a trigger
fills rank_penalty and rank_at from penalty and created_at. PostgreSQL sets them before
the insert, and only calls the function when one is missing; SQLite cannot change the
row being inserted, so it updates it just after, again only when one is missing.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from core.migrations._dialects import AddColumn, RunSQLPerDialect

_QUEUE_INDEX = (
    "CREATE INDEX idx_active_queue "
    "ON appointments (service_account_id, day, {key}, called_at, duration_minutes) "
    "WHERE status = 'active'"
)
# The key of core.services.line_order.KEY, and the order it replaces.
_BY_KEY = _QUEUE_INDEX.format(key="rank_penalty, rank_at, id")
_BY_PENALTY = _QUEUE_INDEX.format(key="penalty, created_at, id")

_PG_FORWARD = [
    """
CREATE FUNCTION appointments_first_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.rank_penalty := COALESCE(NEW.rank_penalty, NEW.penalty);
    NEW.rank_at := COALESCE(NEW.rank_at, NEW.created_at);
    RETURN NEW;
END
$$
""",
    """
CREATE TRIGGER appointments_first_key
BEFORE INSERT ON appointments
FOR EACH ROW WHEN (NEW.rank_penalty IS NULL OR NEW.rank_at IS NULL)
EXECUTE FUNCTION appointments_first_key()
""",
]
_PG_BACKWARD = [
    "DROP TRIGGER appointments_first_key ON appointments",
    "DROP FUNCTION appointments_first_key()",
]
_SQLITE_FORWARD = [
    """
CREATE TRIGGER appointments_first_key AFTER INSERT ON appointments
WHEN NEW.rank_penalty IS NULL OR NEW.rank_at IS NULL
BEGIN
    UPDATE appointments
    SET rank_penalty = COALESCE(NEW.rank_penalty, NEW.penalty),
        rank_at = COALESCE(NEW.rank_at, NEW.created_at)
    WHERE id = NEW.id;
END
""",
]
_SQLITE_BACKWARD = ["DROP TRIGGER appointments_first_key"]


class Migration(migrations.Migration):
    dependencies = [("models", "0010_canonical_phones")]

    operations = [
        AddColumn(
            model_name="Appointment",
            name="rank_penalty",
            field=fields.FloatField(null=True),
        ),
        AddColumn(
            model_name="Appointment",
            name="rank_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            "UPDATE appointments SET rank_penalty = penalty, rank_at = created_at",
            reverse_sql=ops.RunSQL.noop,
        ),
        ops.RunSQL("DROP INDEX idx_active_queue", reverse_sql=_BY_PENALTY),
        ops.RunSQL(_BY_KEY, reverse_sql="DROP INDEX idx_active_queue"),
        RunSQLPerDialect(
            {"postgres": _PG_FORWARD, "sqlite": _SQLITE_FORWARD},
            reverse_sql={"postgres": _PG_BACKWARD, "sqlite": _SQLITE_BACKWARD},
        ),
    ]
