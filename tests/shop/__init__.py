"""A small Django app for the plugin's own tests: tables whose indexes a query can miss.

Each index in ``shop.models`` exists to make one way of *not* being served by an index
real on a PostgreSQL server; ``tests/plans/service_capture.py`` plans the queries.
"""
