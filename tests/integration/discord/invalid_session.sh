#!/bin/bash
# usher on Discord (fake gateway + REST): the invalid_session case of harness.py.
exec /usr/bin/python3 "$2/tests/integration/discord/harness.py" "$1" "$2" invalid_session
