"""Co-ordinator reports (SPEC §10) as JSON or CSV: ``/api/v1/reports/{name}``.

Coordinators only (SPEC §1 lists reports among what a coordinator sees; other roles get
403 like any endpoint their role cannot use), over their own teams' caseloads, or one of
their teams with ``team_id`` (another team answers 404). CSV with ``Accept: text/csv`` or
``?format=csv``.

Audit: one row per report request (action ``report``), not one per patient: a report
shows counts, never a patient's record, so no patient's data is read out to anyone;
per-patient rows would say "X saw Edith's record" when they did not, and would flood the
log with a row per caseload patient on every refresh of the report screen.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server import database
from server.clock import utcnow
from server.http.errors import not_found
from server.reports.build import REPORTS
from server.reports.table import to_csv
from server.services import audit, auth

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Reports")

CSV = "text/csv"


class ReportQuerySchema(Schema):
    team_id = fields.String(metadata={"description": "One of your teams (default: all)."})
    format = fields.String(validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "csv: same as Accept: text/csv."})


def _wants_csv(query: dict[str, Any]) -> bool:
    if "format" in query:
        return bool(query["format"] == "csv")
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


@blp.route("/reports/<any(" + ",".join(repr(name) for name in REPORTS) + "):name>")
class Report(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200)
    @blp.doc(responses={"200": {
        "description": "The report as JSON, or one row per week as CSV (docs/reports.md).",
        "content": {"application/json": {"schema": {"type": "object"}},
                    CSV: {"schema": {"type": "string"}}}}})
    def get(self, query: dict[str, Any], name: str) -> Any:
        """A co-ordinator report: caseload, escalations or visits, week by week (JSON or CSV)"""
        actor = auth.require_role("coordinator")
        team_ids = set(actor.team_ids)
        if "team_id" in query:
            if query["team_id"] not in team_ids:
                not_found("Team")
            team_ids = {query["team_id"]}
        with database.read() as uow:
            report = REPORTS[name](uow, actor, team_ids, utcnow())
        as_csv = _wants_csv(query)
        with database.write() as uow:
            audit.record(uow, actor, "report", detail={
                "report": name, "teams": sorted(team_ids), "format": "csv" if as_csv else "json"})
        if not as_csv:
            return report
        filename = f"doorstep-{name}-{utcnow().date().isoformat()}.csv"
        return Response(to_csv(report), mimetype=CSV, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})
