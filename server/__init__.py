"""Doorstep server: the Flask app, accounts, clinical rules, notifications and jobs."""
