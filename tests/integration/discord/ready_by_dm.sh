#!/bin/bash
# usher on Discord (fake gateway + REST + Seerr): the ready_by_dm case of harness.py.
exec /usr/bin/python3 "$2/tests/integration/discord/harness.py" "$1" "$2" ready_by_dm
