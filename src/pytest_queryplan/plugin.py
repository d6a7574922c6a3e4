"""pytest entry point (``-p no:queryplan`` disables it). Importing it must stay cheap."""

from __future__ import annotations
