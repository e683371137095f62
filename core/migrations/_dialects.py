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


class AddColumn(ops.AddField):
    """AddField whose reverse drops the column in place on SQLite as well.

    Tortoise's SQLite schema editor removes a field by rebuilding its table, which loses
    the table's partial indexes and triggers (RunSQL wrote them) and fails on triggers of
    other tables that name it; SQLite drops a column in place since 3.35.
    """

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect != "sqlite":
            await super().database_backward(app_label, old_state, new_state, state_editor)
            return
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        column = model._meta.fields_map[self.name].source_field or self.name
        statement = f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{column}"'
        if state_editor.collect_sql:
            state_editor.collected_sql.append(statement)
        else:
            await state_editor.client.execute_query(statement)


class DropUniqueTogether(ops.RemoveConstraint):
    """RemoveConstraint of a `unique_together` that works on SQLite as well.

    SQLite keeps such a constraint inside the table's definition (an automatic index
    with no name of ours), so it goes only with a rebuild of the table, from the model
    as it is once the constraint is gone. Only for a table without partial indexes or
    triggers, which a rebuild would lose.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
        await state_editor._remake_table(model)
