"""Co-ordinator reports (SPEC §10): caseload by falls risk and activation, escalations
and time to acknowledge, visits completed / no access / late-synced — week by week.

``weeks``, ``caseload`` and ``activity`` are pure computations; ``load`` is the only part
that reads the database; ``build`` puts them together per report and ``table`` turns a
report into CSV rows. Definitions of every number: docs/reports.md.
"""
