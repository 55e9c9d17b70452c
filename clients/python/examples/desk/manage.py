#!/usr/bin/env python3
"""The example desk: a Django project over chaser serve's PostgreSQL database (see README.md)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The chaser package from this checkout (clients/python), unless it is installed.
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..")))

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
