"""Patient (UK Core Patient profile) and RelatedPerson (carer links).

The NHS number is the Patient's identifier under the national system, with UK Core's
NHS Number Verification Status extension: Doorstep never traces numbers against PDS,
so the status is the configured ``FHIR_NHS_NUMBER_VERIFICATION`` (default "02", number
present but not traced); an empty setting leaves the extension out.

Left out on purpose: ``access_notes`` (staff-only: key safe codes), the team, the care
co-ordinator and complexity tier (local workflow, no UK Core element), and the two
opt-outs (they decide what is exported; they are not facts to pass on).
"""

from __future__ import annotations

from server.fhir.common import (
    UK_CORE_PATIENT,
    MappingContext,
    Resource,
    Source,
    base,
    compact,
    concept,
    reference,
)

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
VERIFICATION_EXTENSION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
VERIFICATION_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)
VERIFICATION_DISPLAY = {
    "01": "Number present and verified",
    "02": "Number present but not traced",
    "03": "Trace required",
    "04": "Trace attempted - No match or multiple match found",
    "05": "Trace needs to be resolved - (NHS number or patient detail conflict)",
    "06": "Trace in progress",
    "07": "Number not present and trace not required",
    "08": "Trace postponed (baby under six weeks old)",
}


def nhs_number_identifier(number: str, verification: str) -> Resource:
    identifier: Resource = {"system": NHS_NUMBER_SYSTEM, "value": number}
    if verification:
        identifier["extension"] = [{
            "url": VERIFICATION_EXTENSION,
            "valueCodeableConcept": {"coding": [{
                "system": VERIFICATION_SYSTEM, "code": verification,
                "display": VERIFICATION_DISPLAY.get(verification, verification),
            }]},
        }]
    return identifier


def patient(source: Source, ctx: MappingContext) -> Resource:
    data = source.data
    name = compact({"use": "official", "family": data.get("family_name"),
                    "given": [data["given_name"]] if data.get("given_name") else None})
    address = compact({"use": "home", "text": data.get("address") or None,
                       "postalCode": data.get("postcode")})
    practitioners = [{"display": data[key]} for key in ("named_gp", "gp_practice")
                     if data.get(key)]
    return compact({
        **base("Patient", source, profile=UK_CORE_PATIENT),
        "identifier": [nhs_number_identifier(data["nhs_number"], ctx.nhs_number_verification)]
        if data.get("nhs_number") else None,
        "active": True,
        "name": [name] if name.keys() - {"use"} else None,
        "telecom": [{"system": "phone", "value": data["phone"], "use": "home"}]
        if data.get("phone") else None,
        "gender": data.get("sex"),  # Doorstep's values are FHIR AdministrativeGender's
        "birthDate": data.get("date_of_birth"),
        "address": [address] if address.keys() - {"use"} else None,
        "generalPractitioner": practitioners,
    })


def related_person(source: Source, ctx: MappingContext) -> Resource:
    """A carer linked to the patient; the relationship is the words staff recorded."""
    data = source.data
    display = ctx.user_display(data.get("carer_user_id"))
    return compact({
        **base("RelatedPerson", source),
        "identifier": [{"system": ctx.system("user-id"), "value": data["carer_user_id"]}]
        if data.get("carer_user_id") else None,
        "active": bool(data.get("active")),
        "patient": reference("Patient", data.get("patient_id")),
        "relationship": [concept(text=data["relationship"])]
        if data.get("relationship") else None,
        "name": [{"text": display}] if display else None,
    })
