"""Line versions: a counter per (provider, day) that triggers bump on every change of the line.

The queue page cache (core.services.line_pages) compares the sum of a line's counters
with the sum it saw when it rendered a page; any server process can do that with one
small read. The counters are written by triggers, in the transaction of the change, so
no code path (the API, the texting engine, cascaded deletes, plain SQL) can forget one.

RunSQL runs the same text on every database, and the trigger languages differ, so the
triggers are a RunSQL that picks its statements by the connection's dialect. PostgreSQL
adds to one of 16 slots chosen at random, so concurrent bookings for one provider and
day do not all wait on one row lock until they commit; SQLite has one writer and uses
slot 0. The id is a bigint: on PostgreSQL every upsert takes a sequence value, even
when it only adds to an existing row. Row triggers do not see TRUNCATE.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from core.migrations._dialects import RunSQLPerDialect

# --- PostgreSQL -------------------------------------------------------------------


def _pg_bump(account: str, day: str) -> str:
    """PL/pgSQL adding 1 to a random slot of a line. Written inline in each trigger:
    calling a shared SQL function from PL/pgSQL doubled the trigger's cost per row."""
    return f"""
        INSERT INTO line_versions (service_account_id, day, slot, n)
        VALUES ({account}, {day}, floor(random() * 16)::smallint, 1)
        ON CONFLICT (service_account_id, day, slot) DO UPDATE SET n = line_versions.n + 1;"""


_PG_FORWARD = [
    f"""
CREATE FUNCTION appointments_bump_line() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN{_pg_bump("NEW.service_account_id", "NEW.day")}
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.service_account_id, OLD.day)
                            IS DISTINCT FROM (NEW.service_account_id, NEW.day)) THEN{
        _pg_bump("OLD.service_account_id", "OLD.day")}
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER appointments_bump_line
AFTER INSERT OR UPDATE OR DELETE ON appointments
FOR EACH ROW EXECUTE FUNCTION appointments_bump_line()
""",
    f"""
CREATE FUNCTION users_bump_lines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    waiting record;
BEGIN
    FOR waiting IN
        SELECT DISTINCT service_account_id, day FROM appointments
        WHERE user_id = NEW.id AND status = 'active'
    LOOP{_pg_bump("waiting.service_account_id", "waiting.day")}
    END LOOP;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER users_bump_lines
AFTER UPDATE OF phone ON users
FOR EACH ROW WHEN (OLD.phone IS DISTINCT FROM NEW.phone)
EXECUTE FUNCTION users_bump_lines()
""",
]

_PG_BACKWARD = [
    "DROP TRIGGER users_bump_lines ON users",
    "DROP FUNCTION users_bump_lines()",
    "DROP TRIGGER appointments_bump_line ON appointments",
    "DROP FUNCTION appointments_bump_line()",
]

# --- SQLite -----------------------------------------------------------------------


def _sqlite_bump(columns: str, rest: str = "WHERE true") -> str:
    """A trigger statement adding 1 to slot 0 of each line `SELECT columns rest` names.

    An upsert from a SELECT needs a WHERE clause, or SQLite reads ON CONFLICT as a join.
    """
    return f"""
    INSERT INTO line_versions (service_account_id, day, slot, n)
    SELECT {columns}, 0, 1 {rest}
    ON CONFLICT (service_account_id, day, slot) DO UPDATE SET n = n + 1;"""


_NEW_LINE = _sqlite_bump("NEW.service_account_id, NEW.day")
_OLD_LINE = _sqlite_bump("OLD.service_account_id, OLD.day")

_SQLITE_FORWARD = [
    f"""
CREATE TRIGGER appointments_bump_line_insert AFTER INSERT ON appointments
BEGIN{_NEW_LINE}
END
""",
    f"""
CREATE TRIGGER appointments_bump_line_update AFTER UPDATE ON appointments
BEGIN{_NEW_LINE}{
    _sqlite_bump(
        "OLD.service_account_id, OLD.day",
        "WHERE OLD.service_account_id IS NOT NEW.service_account_id OR OLD.day IS NOT NEW.day",
    )
}
END
""",
    f"""
CREATE TRIGGER appointments_bump_line_delete AFTER DELETE ON appointments
BEGIN{_OLD_LINE}
END
""",
    # At most one active appointment per user and day, so each line comes up once.
    f"""
CREATE TRIGGER users_bump_lines AFTER UPDATE OF phone ON users
WHEN OLD.phone IS NOT NEW.phone
BEGIN{
    _sqlite_bump(
        "service_account_id, day",
        "FROM appointments WHERE user_id = NEW.id AND status = 'active'",
    )
}
END
""",
]

_SQLITE_BACKWARD = [
    "DROP TRIGGER users_bump_lines",
    "DROP TRIGGER appointments_bump_line_delete",
    "DROP TRIGGER appointments_bump_line_update",
    "DROP TRIGGER appointments_bump_line_insert",
]


class Migration(migrations.Migration):
    dependencies = [("models", "0007_inbound_rates")]

    initial = False

    operations = [
        ops.CreateModel(
            name="LineVersion",
            fields=[
                (
                    "id",
                    fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("service_account_id", fields.IntField()),
                ("day", fields.DateField()),
                ("slot", fields.SmallIntField()),
                ("n", fields.BigIntField()),
            ],
            options={
                "table": "line_versions",
                "app": "models",
                "unique_together": (("service_account_id", "day", "slot"),),
                "pk_attr": "id",
                "table_description": (
                    "How many times a provider's line for one day has changed, "
                    "for caching its pages."
                ),
            },
            bases=["Model"],
        ),
        RunSQLPerDialect(
            {"postgres": _PG_FORWARD, "sqlite": _SQLITE_FORWARD},
            reverse_sql={"postgres": _PG_BACKWARD, "sqlite": _SQLITE_BACKWARD},
        ),
    ]
