"""HTTP handlers: parse the request, check permissions, call the query layer."""

import sqlite3
from typing import Any

from app import queries
from app.permissions import User, can_view_project


def get_projects(
    connection: sqlite3.Connection, user: User, params: dict[str, str]
) -> tuple[int, Any]:
    """GET /projects: the caller's active projects."""
    return 200, {"projects": queries.list_projects(connection, user.id)}


def get_project(connection: sqlite3.Connection, user: User, project_id: int) -> tuple[int, Any]:
    """GET /projects/<id>."""
    project = queries.get_project(connection, project_id)
    if project is None or not can_view_project(user, project):
        return 404, {"error": "not found"}
    return 200, project
