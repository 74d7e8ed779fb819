#!/bin/bash
# usher on Discord (fake gateway + REST): the resume_op7 case of harness.py.
exec /usr/bin/python3 "$2/tests/integration/discord/harness.py" "$1" "$2" resume_op7
