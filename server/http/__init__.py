"""HTTP: one flask-smorest blueprint per resource, errors, headers, the web shell."""
