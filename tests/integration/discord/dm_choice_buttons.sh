#!/bin/bash
# usher on Discord (fake gateway + REST + Seerr): the dm_choice_buttons case of harness.py.
exec /usr/bin/python3 "$2/tests/integration/discord/harness.py" "$1" "$2" dm_choice_buttons
