#!/usr/bin/env bash
# Crash safety: usher is killed with SIGKILL 10 times at random moments
# in a stream of conversations and restarted on the same store; no
# request is lost, made twice, or made without the person being told.
# The seed is printed; USHER_CHAOS_SEED repeats a run.
set -euo pipefail
usher="$1"; repo="$2"
seed_args=()
[ -n "${USHER_CHAOS_SEED:-}" ] && seed_args=(--seed "$USHER_CHAOS_SEED")
exec timeout 110 /usr/bin/python3 "$repo/tests/chaos/chaos.py" --usher "$usher" --kills 10 "${seed_args[@]}"
