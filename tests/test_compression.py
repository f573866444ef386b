"""Compressed responses (server/http/compression.py): pulls and the app shell are compressed
when the client accepts it and only then, decode to the same bytes, keep their security
headers and their 304s; tiny bodies and FHIR NDJSON bulk files go out as they are."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import brotli
import pytest
from conftest import login_as, make_patient, make_team, migrated_app, test_config
from fhir_helpers import seed_record
from test_fhir_bulk import export

from server.fhir import bulk

SHELL_JS = b"export const shell = 'app';\n" * 400
INDEX_HTML = b"<!doctype html><title>Doorstep</title>" + b"<p>shell</p>" * 100


@pytest.fixture
def app(tmp_path: Any, clock: Any) -> Iterator[Any]:
    """The app serving a small built shell of its own, so the bytes are known."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "assets" / "index-abc123.js").write_bytes(SHELL_JS)
    (dist / "index.html").write_bytes(INDEX_HTML)
    (dist / "sw.js").write_bytes(b"self.addEventListener('fetch', () => {});\n" * 40)
    application = migrated_app(test_config(tmp_path, clock, PWA_DIST=str(dist)))
    yield application
    bulk.join_workers(application)


@pytest.fixture
def nurse(app: Any, client: Any) -> Any:
    team = make_team(app)
    for _ in range(5):
        make_patient(app, team)
    return login_as(app, client, "nurse", teams=(team,))


def pull(nurse: Any, **headers: str) -> Any:
    return nurse.client.get("/api/v1/sync/pull", query_string={"client_id": nurse.client_id},
                            headers={**nurse.headers(), **headers})


def test_pull_is_gzip_when_accepted_and_decodes_to_the_same_json(nurse):
    plain = pull(nurse)
    compressed = pull(nurse, **{"Accept-Encoding": "gzip"})
    assert plain.status_code == compressed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert int(compressed.headers["Content-Length"]) == len(compressed.data) < len(plain.data)
    assert json.loads(gzip.decompress(compressed.data)) == plain.json
    assert len(plain.json["changes"]) == 5
    for response in (plain, compressed):
        assert "Accept-Encoding" in response.headers["Vary"]
        # Security headers and no-store survive compression.
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_pull_uses_the_best_encoding_the_client_offers(nurse):
    response = pull(nurse, **{"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(response.data)) == pull(nurse).json
    assert "Content-Encoding" not in pull(nurse, **{"Accept-Encoding": "identity"}).headers


def test_tiny_bodies_are_not_compressed(nurse):
    response = nurse.client.get("/api/v1/me", headers={**nurse.headers(),
                                                       "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and len(response.data) < 500
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize(("path", "body"), [("/assets/index-abc123.js", SHELL_JS),
                                            ("/", INDEX_HTML), ("/caseload", INDEX_HTML)])
def test_app_shell_is_compressed_and_still_answers_304(client, path, body):
    plain = client.get(path)
    plain_bytes = plain.get_data()
    plain.close()
    assert plain_bytes == body and "Content-Encoding" not in plain.headers
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    compressed = response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed) == body and len(compressed) < len(body)
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # One weak validator for both encodings: a copy cached either way revalidates.
    etag = response.headers["ETag"]
    assert etag.startswith('W/"') and etag == plain.headers["ETag"]
    for encoding in ("gzip", ""):
        again = client.get(path, headers={"Accept-Encoding": encoding, "If-None-Match": etag})
        again.close()
        assert again.status_code == 304 and again.get_data() == b""


def test_service_worker_is_compressed_and_revalidated(client):
    response = client.get("/sw.js", headers={"Accept-Encoding": "gzip"})
    body = gzip.decompress(response.get_data())
    response.close()
    assert body.startswith(b"self.addEventListener")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.mimetype in ("text/javascript", "application/javascript")


def test_ndjson_bulk_files_stream_uncompressed(app, client):
    team = make_team(app)
    nurse = login_as(app, client, "nurse", teams=(team,))
    for tag in "12":
        seed_record(app, nurse, team, tag)
    coordinator = login_as(app, client, "coordinator", teams=(team,))
    manifest = export(coordinator)
    output = next(o for o in manifest["output"] if o["type"] == "Patient")
    response = client.get(output["url"], headers={**coordinator.headers(),
                                                  "Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/fhir+ndjson"
    assert "Content-Encoding" not in response.headers
    lines = response.get_data(as_text=True).splitlines()
    response.close()
    assert len(lines) == output["count"] == 2
    assert sum(len(line) for line in lines) > 500  # big enough that size alone is no reason
    assert all(json.loads(line)["resourceType"] == "Patient" for line in lines)
