"""The API's documentation in the browser: Swagger UI over /openapi.json, served from this
service's own files (public bodies often block outside script hosts)."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, abort, render_template, send_from_directory
from flask.typing import ResponseReturnValue

# Swagger UI's own files, as the flask-swagger-ui package ships them.
SWAGGER_UI = Path(flask_swagger_ui.__file__).parent / "dist"
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}

docs = Blueprint(
    "api_docs", __name__, template_folder="templates", static_folder="static", static_url_path="/docs/api/static"
)


@docs.get("/docs/api")
def api_docs() -> ResponseReturnValue:
    return render_template("api_docs.html")


@docs.get("/docs/api/ui/<name>")
def swagger_ui_asset(name: str) -> ResponseReturnValue:
    if name not in ASSETS:
        abort(404)
    return send_from_directory(SWAGGER_UI, name, max_age=86400)
