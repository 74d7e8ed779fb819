#!/bin/bash
# usher on Discord (fake gateway + REST): the fatal_4004 case of harness.py.
exec /usr/bin/python3 "$2/tests/integration/discord/harness.py" "$1" "$2" fatal_4004
