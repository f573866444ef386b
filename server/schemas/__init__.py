"""Marshmallow schemas, named <Thing>Schema: the shapes of requests and responses."""
