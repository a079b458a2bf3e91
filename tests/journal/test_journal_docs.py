"""The auditor's re-check in docs/journal.md runs, and agrees with `verify`."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from askfirst.journal import append, verify
from askfirst.store import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "journal.md"
AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _audit_function() -> Callable[[str, str], str]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    source = next(block for block in blocks if "def audit(" in block)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOC), "exec"), namespace)
    audit: Callable[[str, str], str] = namespace["audit"]
    return audit


@pytest.mark.sqlite_only
def test_the_documented_audit_agrees_with_verify(store: Store) -> None:
    for n in range(4):
        with store.transaction() as session:
            append(session, "consent.changed", {"n": n, "note": "é"}, at=AT, member_id=n)
    database = store.engine.url.database
    assert database is not None and store.journal_head_file is not None
    audit = _audit_function()
    assert audit(database, str(store.journal_head_file)) == verify(store).head_hash
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("DROP TRIGGER journal_entries_no_update")
        connection.execute(
            "UPDATE journal_entries SET body = replace(body, 'é', 'e') WHERE seq = 2"
        )
    with pytest.raises(AssertionError, match="entry 2"):
        audit(database, str(store.journal_head_file))
