"""Patient and carer enrolment with one-time invite codes (SPEC §7).

A staff member who can see a patient makes a code (valid INVITE_DAYS, single use; only
its hash is stored). Enrolling with it creates the account; a patient account is linked
to its record, a carer account gets an active ``carer_link`` — refused while the patient
objects to sharing. Failed code attempts count towards the login throttle of the address,
so codes cannot be guessed at speed. A code is used atomically (``uow.invites.use_invite``)
in the unit of work that creates the account: of two enrolments at the same moment
exactly one succeeds; if the account cannot be made, the code stays unused.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import current_app

from server.clock import iso, utcnow
from server.records import access
from server.services import accounts, audit, auth
from storage import Storage, UnitOfWork
from sync.registry import Actor

# No 0/O, 1/I/L: codes are read aloud and typed by older people.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # ~59 bits


class EnrolmentError(Exception):
    """An invite or enrolment was refused; ``code`` is the HTTP status to answer."""

    def __init__(self, code: int, message: str, errors: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.errors = errors or {}


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def create_invite(
    uow: UnitOfWork,
    actor: Actor,
    patient_id: str,
    role: str,
    relationship: str | None = None,
    consent_basis: str | None = None,
) -> dict[str, str]:
    """Make a code; the caller has checked the actor is staff who can see the patient."""
    patient = access.patient_data(uow, patient_id)
    if patient is None:
        raise EnrolmentError(404, "Patient not found.")
    if role == "carer":
        errors = {}
        if not relationship:
            errors["relationship"] = ["Say how the carer is related to the patient."]
        if not consent_basis:
            errors["consent_basis"] = ["Give the basis for sharing with this carer."]
        if errors:
            raise EnrolmentError(422, "A carer invite needs a relationship and consent basis.",
                                 errors)
        if patient.get("sharing_objection"):
            raise EnrolmentError(
                409, "The patient objects to sharing: no carer can be linked.",
                {"patient_id": ["Sharing objection recorded."]},
            )
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    expires = utcnow() + timedelta(days=current_app.config["INVITE_DAYS"])
    uow.invites.create_invite(
        code_hash=auth.token_hash(raw), patient_id=patient_id, role=role,
        relationship=relationship, consent_basis=consent_basis, created_by=actor.user_id,
        expires_at=expires,
    )
    audit.record(uow, actor, "create_invite", entity="patient",
                 record_id=patient_id, patient_id=patient_id, detail={"role": role})
    return {"code": format_code(raw), "expires_at": iso(expires)}


def enrol(
    storage: Storage,
    address: str,
    *,
    code: str,
    username: str,
    password: str,
    display_name: str,
) -> accounts.User:
    """Create the account an invite code is for, in units of work of its own: a wrong
    code's failure is recorded (and kept) in one, the account is made in another."""
    raw = normalise_code(code)
    throttle_key = "enrol"
    with storage.write() as uow:
        if auth.login_blocked(uow, throttle_key, address):
            raise EnrolmentError(429, "Too many wrong codes. Try again in 15 minutes.")
        invite = uow.invites.invite(auth.token_hash(raw))
        problem = None
        if invite is None:
            problem = ("This code is not recognised. Check it was typed correctly,"
                       " or ask for a new one.")
        elif invite.used_at is not None:
            problem = "This code has already been used. Ask for a new one."
        elif invite.expires_at <= utcnow():
            problem = "This code has expired. Ask your nurse for a new one."
        if problem is None:
            failure = None
        else:
            auth.record_login_failure(uow, throttle_key, address)
            failure = EnrolmentError(422, problem, {"code": [problem]})
    if failure is not None:
        raise failure
    assert invite is not None
    # Hashed before the write unit of work: argon2 must not hold the write lock.
    password_hash = accounts.hash_ahead(invite.role, password)
    with storage.write() as uow:
        # The check above ran in its own unit of work, so another enrolment may have used
        # the code since: using it is one atomic write, which exactly one wins.
        if not uow.invites.use_invite(invite.code_hash):
            problem = "This code has already been used."
            raise EnrolmentError(422, problem, {"code": [problem]})
        patient = access.patient_data(uow, invite.patient_id)
        if patient is None:
            raise EnrolmentError(422, "This code is no longer valid.", {"code": ["Invalid."]})
        role = invite.role
        if role == "patient" and uow.accounts.patient_has_active_account(invite.patient_id):
            raise EnrolmentError(409, "This patient already has an account.")
        if role == "carer" and patient.get("sharing_objection"):
            raise EnrolmentError(409, "The patient objects to sharing: no carer can be linked.")
        try:
            user = accounts.create_user(
                uow,
                username=username,
                password=password,
                password_hash=password_hash,
                role=role,
                display_name=display_name,
                patient_id=invite.patient_id if role == "patient" else None,
            )
        except accounts.AccountError as exc:
            # The message names each problem ("Password: must be at least 8 characters.").
            message = " ".join(f"{field.replace('_', ' ').capitalize()}: {problems[0][0].lower()}"
                               f"{problems[0][1:]}" for field, problems in exc.errors.items())
            raise EnrolmentError(422, message, exc.errors) from exc
        uow.invites.record_invite_user(invite.code_hash, user.id)
        actor = Actor(user.id, role, "enrolment")
        if role == "carer":
            from server.records.engine import create_carer_link

            assert invite.relationship is not None and invite.consent_basis is not None
            create_carer_link(
                uow,
                actor,
                patient_id=invite.patient_id,
                carer_user_id=user.id,
                relationship=invite.relationship,
                consent_basis=invite.consent_basis,
            )
        audit.record(uow, actor, "enrol", entity="patient",
                     record_id=invite.patient_id, patient_id=invite.patient_id,
                     detail={"role": role})
    return user
