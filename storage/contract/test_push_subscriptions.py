"""Push subscriptions: one per device, unique endpoints, live targets, dead ones pruned."""

from __future__ import annotations

from datetime import timedelta

from storage import Storage
from storage.contract import accounts_data
from storage.contract.accounts_data import needs_accounts
from storage.contract.conftest import Clock
from storage.push_subscriptions import SendHealth

pytestmark = needs_accounts

P256DH, AUTH = "BPublicKey", "secret16"


def test_a_device_has_one_subscription_and_an_endpoint_one_row(
        storage: Storage, clock: Clock) -> None:
    with storage.write() as uow:
        user = accounts_data.user(uow)
        phone, tablet = accounts_data.device(uow, user), accounts_data.device(uow, user)
        subs = uow.push_subscriptions
        first = subs.save_subscription(user, phone, "https://push.example/a", P256DH, AUTH,
                                       clock.now)
        again = subs.save_subscription(user, phone, "https://push.example/b", P256DH, AUTH,
                                       clock.advance(minutes=1))
        assert [s.endpoint for s in subs.subscriptions_of_user(user)] == [
            "https://push.example/b"]
        moved = subs.save_subscription(user, tablet, "https://push.example/b", "k2", AUTH,
                                       clock.advance(minutes=1))
        assert moved.id == again.id != first.id
        assert (moved.client_id, moved.created_at) == (tablet, again.created_at)
        assert moved.updated_at > again.updated_at and moved.last_http_status is None
        assert subs.get_push_target(moved.id) is not None
        assert subs.get_push_target(moved.id).p256dh == "k2"  # type: ignore[union-attr]


def test_users_see_and_delete_only_their_own(storage: Storage, clock: Clock) -> None:
    with storage.write() as uow:
        owner, other = accounts_data.user(uow), accounts_data.user(uow)
        sub = uow.push_subscriptions.save_subscription(
            owner, accounts_data.device(uow, owner), "https://push.example/a", P256DH, AUTH,
            clock.now)
        assert uow.push_subscriptions.subscriptions_of_user(other) == []
        assert not uow.push_subscriptions.delete_subscription_of_user(other, sub.id)
        assert uow.push_subscriptions.delete_subscription_of_user(owner, sub.id)
        assert uow.push_subscriptions.subscriptions_of_user(owner) == []


def test_push_targets_are_of_active_users_on_devices_not_revoked(
        storage: Storage, clock: Clock) -> None:
    with storage.write() as uow:
        alive, former = accounts_data.user(uow), accounts_data.user(uow)
        subs = uow.push_subscriptions
        kept = subs.save_subscription(alive, accounts_data.device(uow, alive),
                                      "https://push.example/1", P256DH, AUTH, clock.now)
        revoked = accounts_data.device(uow, alive)
        subs.save_subscription(alive, revoked, "https://push.example/2", P256DH, AUTH,
                               clock.advance(seconds=1))
        accounts_data.devices(uow).revoke_device(revoked, alive, "lost")
        subs.save_subscription(former, accounts_data.device(uow, former),
                               "https://push.example/3", P256DH, AUTH, clock.now)
        accounts_data.accounts(uow).set_active(former, False)
        assert [t.id for t in subs.push_targets_of_users([alive, former, "nobody"])] == [
            kept.id]
        assert subs.push_targets_of_users([]) == []


def test_dead_subscriptions_are_pruned_unless_re_subscribed_meanwhile(
        storage: Storage, clock: Clock) -> None:
    with storage.write() as uow:
        user = accounts_data.user(uow)
        subs = uow.push_subscriptions
        dead = subs.save_subscription(user, accounts_data.device(uow, user),
                                      "https://push.example/dead", P256DH, AUTH, clock.now)
        renewed = subs.save_subscription(user, accounts_data.device(uow, user),
                                         "https://push.example/old", P256DH, AUTH, clock.now)
        subs.save_subscription(user, renewed.client_id, "https://push.example/new", P256DH,
                               AUTH, clock.advance(minutes=1))
        subs.record_send_health([SendHealth(dead.id, clock.now, 410, False)])
        assert subs.prune_dead_subscriptions([(dead.id, dead.endpoint),
                                              (renewed.id, renewed.endpoint)]) == 1
        assert [s.endpoint for s in subs.subscriptions_of_user(user)] == [
            "https://push.example/new"]


def test_send_health_is_recorded(storage: Storage, clock: Clock) -> None:
    with storage.write() as uow:
        user = accounts_data.user(uow)
        sub = uow.push_subscriptions.save_subscription(
            user, accounts_data.device(uow, user), "https://push.example/a", P256DH, AUTH,
            clock.now)
        uow.push_subscriptions.record_send_health(
            [SendHealth(sub.id, clock.now + timedelta(minutes=1), 201, True)])
        [seen] = uow.push_subscriptions.subscriptions_of_user(user)
        assert seen.last_http_status == 201
