"""The query layer: every SQL statement the API runs."""

import sqlite3


def list_projects(connection: sqlite3.Connection, owner_id: int) -> list[dict[str, object]]:
    """Active projects visible to the owner, newest first."""
    rows = connection.execute(
        "SELECT id, name, archived FROM projects WHERE owner_id = ? AND archived = 0 "
        "ORDER BY id DESC",
        (owner_id,),
    ).fetchall()
    return [dict(row) for row in rows]


def get_project(connection: sqlite3.Connection, project_id: int) -> dict[str, object] | None:
    row = connection.execute(
        "SELECT id, name, archived, owner_id FROM projects WHERE id = ?", (project_id,)
    ).fetchone()
    return dict(row) if row else None
