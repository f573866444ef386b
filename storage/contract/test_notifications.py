"""The notification queue: escalation notices and reminder occurrences, claimed once."""

from __future__ import annotations

from datetime import date, timedelta

from storage import Storage
from storage.contract import accounts_data, care_data
from storage.contract.accounts_data import needs_accounts
from storage.contract.conftest import Clock
from storage.notifications import (
    DeliveryRecord,
    FinishedNotice,
    ReminderOccurrence,
    ScheduledNotice,
)


def schedule(storage: Storage, clock: Clock, escalation_id: str = "esc-1",
             *delays: timedelta) -> list[str]:
    notices = [ScheduledNotice("opened", clock.now)]
    notices += [ScheduledNotice("renotify", clock.now + delay) for delay in delays]
    with storage.write() as uow:
        return uow.notifications.schedule_escalation_notices(escalation_id, "urgent",
                                                             notices, clock.now)


def test_due_notices_come_oldest_first_and_only_once_due(storage: Storage, clock: Clock) -> None:
    first, later = schedule(storage, clock, "esc-1", timedelta(minutes=30))
    clock.advance(minutes=1)
    [other] = schedule(storage, clock, "esc-2")
    with storage.read() as uow:
        due = uow.notifications.due_escalation_notices(clock.now, limit=10)
        assert [n.id for n in due] == [first, other]
        assert [n.kind for n in due] == ["opened", "opened"]
        assert uow.notifications.due_escalation_notices(clock.now, limit=1)[0].id == first
        assert [n.id for n in uow.notifications.due_escalation_notices(
            clock.now, limit=10, only=[other, later])] == [other]
        later_due = uow.notifications.due_escalation_notices(
            clock.now + timedelta(minutes=30), limit=10)
        assert later in [n.id for n in later_due]


def test_a_notice_is_claimed_by_one_unit_of_work_only(storage: Storage, clock: Clock) -> None:
    [notice] = schedule(storage, clock)
    with storage.write() as uow:
        assert uow.notifications.claim_escalation_notice(notice, "one", clock.now)
    with storage.write() as uow:
        assert not uow.notifications.claim_escalation_notice(notice, "two", clock.now)
        assert uow.notifications.due_escalation_notices(clock.now, limit=10) == []


def test_a_claim_rolled_back_stays_due(storage: Storage, clock: Clock) -> None:
    [notice] = schedule(storage, clock)
    try:
        with storage.write() as uow:
            assert uow.notifications.claim_escalation_notice(notice, "one", clock.now)
            raise RuntimeError("the sender died before commit")
    except RuntimeError:
        pass
    with storage.write() as uow:
        assert uow.notifications.claim_escalation_notice(notice, "two", clock.now)


def test_finishing_records_the_outcome_of_the_claimers_rows_only(
        storage: Storage, clock: Clock) -> None:
    sent, retry = schedule(storage, clock, "esc-1", timedelta(0))
    with storage.write() as uow:
        assert uow.notifications.claim_escalation_notice(sent, "one", clock.now)
        assert uow.notifications.claim_escalation_notice(retry, "one", clock.now)
        # A claimed notice is on its way: news to nobody twice.
        assert uow.notifications.escalation_notified_before("esc-1")
    with storage.write() as uow:
        uow.notifications.finish_escalation_notices(
            [FinishedNotice(retry, "sent", 1, 1)], "another", clock.now)
        assert uow.notifications.due_escalation_notices(clock.now, limit=10) == []
        uow.notifications.finish_escalation_notices(
            [FinishedNotice(sent, "sent", 1, 1), FinishedNotice(retry, "due", 1, 0)],
            "one", clock.now)
        assert uow.notifications.escalation_notified_before("esc-1")
        [due] = uow.notifications.due_escalation_notices(clock.now, limit=10)
        assert (due.id, due.attempts) == (retry, 1)


def test_stale_claims_become_due_again_and_cancelling_stops_the_rest(
        storage: Storage, clock: Clock) -> None:
    first, renotify = schedule(storage, clock, "esc-1", timedelta(minutes=10))
    with storage.write() as uow:
        uow.notifications.claim_escalation_notice(first, "dead", clock.now)
    clock.advance(minutes=31)
    with storage.write() as uow:
        assert uow.notifications.release_stale_escalation_claims(
            clock.now - timedelta(minutes=30)) == 1
        assert [n.id for n in uow.notifications.due_escalation_notices(clock.now, 10)] == [
            first, renotify]
        assert uow.notifications.cancel_escalation_notice(first, clock.now)
        assert not uow.notifications.cancel_escalation_notice(first, clock.now)
        assert uow.notifications.cancel_escalation_notices("esc-1", clock.now) == 1
        assert uow.notifications.due_escalation_notices(clock.now, 10) == []
        assert not uow.notifications.escalation_notified_before("esc-1")


def occurrence(clock: Clock, reminder_id: str = "r1", day: date = date(2026, 11, 24)
               ) -> ReminderOccurrence:
    return ReminderOccurrence(f"{reminder_id}/{day}", reminder_id, day, clock.now)


def test_a_reminder_occurrence_is_claimed_once_whatever_the_status(
        storage: Storage, clock: Clock) -> None:
    occ = occurrence(clock)
    with storage.write() as uow:
        assert uow.notifications.claim_reminder_occurrence(occ, "claimed", "one", clock.now)
    with storage.write() as uow:
        assert not uow.notifications.claim_reminder_occurrence(occ, "missed", "two", clock.now)
        assert uow.notifications.claim_reminder_occurrence(
            occurrence(clock, day=date(2026, 11, 25)), "skipped", "two", clock.now)
        assert uow.notifications.reminder_occurrences_since(date(2026, 11, 25)) == {
            ("r1", date(2026, 11, 25))}
        assert len(uow.notifications.reminder_occurrences_since(date(2026, 11, 1))) == 2


def test_stale_reminder_claims_are_abandoned_and_finished_ones_kept(
        storage: Storage, clock: Clock) -> None:
    stale, fresh = occurrence(clock, "r1"), occurrence(clock, "r2")
    with storage.write() as uow:
        uow.notifications.claim_reminder_occurrence(stale, "claimed", "dead", clock.now)
    clock.advance(minutes=20)
    with storage.write() as uow:
        uow.notifications.claim_reminder_occurrence(fresh, "claimed", "one", clock.now)
        uow.notifications.finish_reminder_occurrences(
            [FinishedNotice(fresh.id, "sent", 1, 1)], clock.now)
    cutoff = clock.now - timedelta(minutes=10)
    with storage.write() as uow:
        assert uow.notifications.has_stale_reminder_claims(cutoff)
        assert uow.notifications.abandon_stale_reminder_claims(cutoff, clock.now) == 1
        assert not uow.notifications.has_stale_reminder_claims(cutoff)
        # An abandoned occurrence is finished: finishing it again changes nothing.
        uow.notifications.finish_reminder_occurrences(
            [FinishedNotice(stale.id, "sent", 1, 1)], clock.now)


def test_the_delivery_log_and_finished_occurrences_are_pruned_past_retention(
        storage: Storage, clock: Clock) -> None:
    old = clock.now - timedelta(days=91)
    with storage.write() as uow:
        uow.notifications.record_deliveries([
            DeliveryRecord("reminder", f"n{n}", "s", None, "delivered", 201, 1, None, at, at)
            for n, at in enumerate((old, clock.now))])
        for reminder_id, status in (("old-sent", "sent"), ("old-claimed", "claimed")):
            uow.notifications.claim_reminder_occurrence(
                ReminderOccurrence(reminder_id, reminder_id, old.date(), old), status, "x", old)
    with storage.write() as uow:
        assert uow.notifications.prune_delivery_log(clock.now - timedelta(days=90)) == 2
        assert uow.notifications.prune_delivery_log(clock.now - timedelta(days=90)) == 0
        assert uow.notifications.reminder_occurrences_since(old.date()) == {
            ("old-claimed", old.date())}


@needs_accounts
def test_recipients_are_checked_against_accounts_teams_and_carer_links(
        storage: Storage) -> None:
    with storage.write() as uow:
        team, other_team = accounts_data.team(uow), accounts_data.team(uow)
        coordinator = accounts_data.user(uow, "coordinator", team_ids=[team])
        nurse = accounts_data.user(uow, "nurse", team_ids=[team])
        outsider = accounts_data.user(uow, "nurse", team_ids=[other_team])
        former = accounts_data.user(uow, "coordinator", team_ids=[team])
        accounts_data.accounts(uow).set_active(former, False)
        queue = uow.notifications
        assert queue.escalation_recipients(team, None) == [coordinator]
        assert queue.escalation_recipients(team, nurse) == sorted([coordinator, nurse])
        assert queue.escalation_recipients(team, outsider) == [coordinator]

        patient = care_data.patient(uow)
        own = accounts_data.user(uow, "patient", patient_id=patient)
        stranger = accounts_data.user(uow, "patient", patient_id=care_data.patient(uow))
        carer, unlinked = accounts_data.user(uow, "carer"), accounts_data.user(uow, "carer")
        care_data.write(uow, "carer_link", {"patient_id": patient, "carer_user_id": carer,
                                            "active": True})
        asked = [carer, own, stranger, unlinked, nurse, own]
        assert queue.reminder_recipients(patient, asked, False) == [carer, own]
        assert queue.reminder_recipients(patient, asked, True) == [own]
