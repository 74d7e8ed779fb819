#!/usr/bin/env bash
# Builds usher and starts its demo: a chat in this terminal against bundled
# pretend media services. No setup needed.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
"$top/contrib/install-deps.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)" --target usher >/dev/null
exec "$top/build/usher" demo "$@"
