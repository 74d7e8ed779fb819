#!/bin/bash
# usher on Discord: a person known only by the Discord id in their own Seerr settings.
exec /usr/bin/python3 "$2/tests/integration/discord/harness.py" "$1" "$2" seerr_discord_id
