"""Tests of the upstream example app: role rules, alert routing, and the phase 6 migration."""
