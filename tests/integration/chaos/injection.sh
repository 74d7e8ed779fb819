#!/usr/bin/env bash
# Hostile LLM: 50 prompt-injection cases (tests/integration/chaos/injection.py).
exec /usr/bin/python3 "$2/tests/integration/chaos/injection.py" "$1" "$2"
