"""Accounts for contract tests that join them (push subscriptions, recipients), made
through the accounts and devices repositories."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from importlib.util import find_spec
from typing import Any

import pytest

from storage import UnitOfWork

_counter = itertools.count(1)

# The accounts repositories land with their own branch of issue 11; until then the
# contract tests that need accounts are skipped (they need no SQL of their own).
needs_accounts = pytest.mark.skipif(
    find_spec("storage.sqlite.accounts") is None or find_spec("storage.sqlite.devices") is None,
    reason="the accounts and devices repositories are not in this tree yet",
)


def accounts(uow: UnitOfWork) -> Any:
    """``uow.accounts``, typed loosely while its interface lands on another branch."""
    return uow.accounts


def devices(uow: UnitOfWork) -> Any:
    """``uow.devices``, typed loosely while its interface lands on another branch."""
    return uow.devices


def user(uow: UnitOfWork, role: str = "patient", *, patient_id: str | None = None,
         team_ids: Sequence[str] = ()) -> str:
    made = accounts(uow).create_user(
        username=f"{role}{next(_counter)}-{uuid.uuid4().hex[:6]}", password_hash="x",
        role=role, display_name="Test", patient_id=patient_id, team_ids=team_ids)
    return str(made.id)


def device(uow: UnitOfWork, user_id: str) -> str:
    client_id = str(uuid.uuid4())
    devices(uow).register_device(client_id, user_id, "tablet")
    return client_id


def team(uow: UnitOfWork) -> str:
    return str(accounts(uow).create_team(f"Team {next(_counter)}").id)
