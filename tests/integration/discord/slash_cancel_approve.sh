#!/bin/bash
# usher on Discord (fake gateway + REST + Seerr): the slash_cancel_approve case of harness.py.
exec /usr/bin/python3 "$2/tests/integration/discord/harness.py" "$1" "$2" slash_cancel_approve
