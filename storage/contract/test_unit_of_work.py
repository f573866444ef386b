"""Units of work: commit, rollback, after-commit side effects, the engine's store."""

from __future__ import annotations

import pytest

from storage import Storage


def test_on_commit_callbacks_run_after_commit_in_order(storage: Storage) -> None:
    ran: list[str] = []
    with storage.write() as uow:
        uow.on_commit(lambda: ran.append("first"))
        uow.on_commit(lambda: ran.append("second"))
        assert ran == []
    assert ran == ["first", "second"]


def test_on_commit_callbacks_never_run_after_a_rollback(storage: Storage) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), storage.write() as uow:
        uow.on_commit(lambda: ran.append("sent"))
        raise RuntimeError("the request failed")
    assert ran == []


def test_the_engine_store_is_used_only_inside_a_transaction(storage: Storage) -> None:
    store = storage.sync_store()
    assert not store.in_transaction()
    with store.read_transaction():
        assert store.in_transaction()
        assert store.unit is not None
        assert store.max_seq() == 0
    with pytest.raises(RuntimeError):
        store.max_seq()


def test_a_unit_of_work_store_shares_its_transaction(storage: Storage) -> None:
    with storage.write() as uow:
        assert uow.store.in_transaction()
        assert uow.store.unit is uow
        with pytest.raises(RuntimeError):
            with uow.store.write_transaction():
                pass
