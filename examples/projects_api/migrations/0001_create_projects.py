"""Create the projects table. High risk: migrations change production data."""

import sqlite3


def upgrade(connection: sqlite3.Connection) -> None:
    connection.execute(
        "CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "owner_id INTEGER NOT NULL, archived INTEGER NOT NULL DEFAULT 0)"
    )
