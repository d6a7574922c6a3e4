"""Drift alerting: rules, the drift events they are evaluated against, and the alerts sent.

Not a Django app of its own: its models belong to the ``upstream`` app.
"""
