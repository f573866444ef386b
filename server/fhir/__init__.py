"""FHIR R4 (4.0.1) views of Doorstep's records: mapping, bundles and bulk export.

Resources are built as plain JSON-ready dicts from the records a caller may see (the
same ``sync.get_record``/``list_records`` scope and redaction as every other read), so
access rules are never re-implemented here. One module per concern:

- ``common``: references, codings, Doorstep's own code systems, resource metadata;
- ``patient``: Patient (UK Core) and RelatedPerson (carer links);
- ``clinical``: Encounter, Provenance, QuestionnaireResponse, RiskAssessment, Observation;
- ``care``: Goal, Flag, CarePlan;
- ``definitions``: the falls-assessment Questionnaire and the CapabilityStatement;
- ``resources``: which Doorstep entity each resource type comes from, per patient;
- ``bundle``: searchset and $everything Bundles, OperationOutcome;
- ``bulk``: the Bulk Data export jobs.

Mapping decisions (what is left out and why) are documented in docs/fhir.md.
"""
