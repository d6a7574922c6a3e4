#!/usr/bin/env python
"""Django's command-line utility for the upstream example project."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "upstream.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from upstream.database import DatabaseConfigError, check_reachable

    try:
        check_reachable(settings.DATABASES["default"])
    except DatabaseConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
