"""One-time enrolment codes for patients and carers; only each code's hash is stored.

A code is *used* by :meth:`Invites.use_invite`, one conditional write: of any number of
units of work using the same code at once, exactly one gets True (and if that one rolls
back, the code is unused again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Invite:
    code_hash: str
    patient_id: str
    role: str  # patient | carer
    relationship: str | None
    consent_basis: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None


class Invites(Protocol):
    def create_invite(
        self,
        *,
        code_hash: str,
        patient_id: str,
        role: str,
        created_by: str,
        expires_at: datetime,
        relationship: str | None = None,
        consent_basis: str | None = None,
    ) -> Invite:
        """A new, unused code made now."""
        ...

    def invite(self, code_hash: str) -> Invite | None: ...

    def use_invite(self, code_hash: str) -> bool:
        """Mark the code used now if it is not yet: True for the one caller that did.

        Atomic: checked and set in one write, so two enrolments racing for one code
        cannot both succeed. Expiry is the caller's rule, not checked here."""
        ...

    def record_invite_user(self, code_hash: str, user_id: str) -> None:
        """The account made with a used code."""
        ...
