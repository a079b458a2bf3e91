"""A real database trigger that refuses deletes from one table, to make a transaction fail late."""

from __future__ import annotations

from sqlalchemy import text

from askfirst.store import Store

REFUSAL = "deletes refused by the test"


def refuse_deletes(store: Store, table: str) -> None:
    """From now on, deleting a row of `table` fails with `REFUSAL` (SQLite or PostgreSQL)."""
    with store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    f"CREATE TRIGGER refuse_{table} BEFORE DELETE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                )
            )
            return
        connection.execute(
            text(
                f"CREATE FUNCTION refuse_{table}() RETURNS trigger AS "
                f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$ LANGUAGE plpgsql"
            )
        )
        connection.execute(
            text(
                f"CREATE TRIGGER refuse_{table} BEFORE DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
            )
        )
