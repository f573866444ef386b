"""The app as `doorstep serve` runs it: one per worker process (granian's ``factory``).

After the app is built, its objects (Flask, the routes, marshmallow schemas, the
registry: a few hundred thousand) are moved out of the garbage collector's reach with
``gc.freeze()``. They live as long as the process, and otherwise every full collection
walks them all again: a snapshot pull allocates tens of thousands of short-lived
objects, which starts collections often enough to cost 3–5 % of its CPU.
"""

from __future__ import annotations

import gc

from flask import Flask

from server.app import create_app


def serving_app() -> Flask:
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
