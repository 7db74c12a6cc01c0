"""Tests for the projects handlers."""

import importlib

from app import db
from app.handlers import get_project, get_projects
from app.permissions import User

migration = importlib.import_module("migrations.0001_create_projects")


def make_db():
    connection = db.connect()
    migration.upgrade(connection)
    connection.executemany(
        "INSERT INTO projects (name, owner_id, archived) VALUES (?, ?, ?)",
        [("alpha", 1, 0), ("beta", 1, 1), ("gamma", 2, 0)],
    )
    return connection


def test_get_projects_returns_only_active_projects():
    status, body = get_projects(make_db(), User(id=1), {})
    assert status == 200
    assert [p["name"] for p in body["projects"]] == ["alpha"]


def test_get_project_hides_other_users_projects():
    status, _ = get_project(make_db(), User(id=2), 1)
    assert status == 404
