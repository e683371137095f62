"""Migration operations shared by migrations (the loader skips modules named with _)."""

from __future__ import annotations

from tortoise.migrations import operations as ops


class RunSQLPerDialect(ops.RunSQL):
    """RunSQL whose statements depend on the dialect of the database being migrated
    (trigger languages differ), given as {dialect: [statement, ...]}.

    Each statement is sent whole: the SQLite schema editor splits a script at every
    ";", which would cut a trigger body apart.
    """

    def __init__(self, sql: dict[str, list[str]], reverse_sql: dict[str, list[str]]) -> None:
        super().__init__(sql, reverse_sql=reverse_sql)

    async def _run_sql(self, state_editor, sqls) -> None:
        client = state_editor.client
        dialect = client.capabilities.dialect
        if dialect not in sqls:
            raise NotImplementedError(f"{type(self).__name__}: no statements for {dialect}")
        for statement in sqls[dialect]:
            if state_editor.collect_sql:
                state_editor.collected_sql.append(statement)
            elif dialect == "sqlite":
                await client.execute_query(statement)
            else:
                await client.execute_script(statement)

