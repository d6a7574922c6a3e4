"""Settings for the plugin's own tests: upstream's, plus the ``shop`` test app."""

from __future__ import annotations

from upstream.settings import *  # noqa: F403
from upstream.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.shop"]
