"""Who may see what. High risk: a mistake here leaks other users' projects."""

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    id: int
    is_admin: bool = False


def can_view_project(user: User, project: dict[str, object]) -> bool:
    return user.is_admin or project.get("owner_id") == user.id
