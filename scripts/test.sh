#!/usr/bin/env bash
# The whole suite: once on SQLite, then once on PostgreSQL in a second process
# (Tortoise caches SQL per dialect, so the two never share a process).
# Extra arguments go to pytest, e.g. scripts/test.sh -k queue
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
PG_URL=${WAITLIST_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"

echo "== tests on SQLite"
WAITLIST_EXPECT_DATABASE=sqlite .venv/bin/python -m pytest "$@"

if .venv/bin/python - "$PG_URL" <<'PY'
import asyncio, sys
import asyncpg
async def main(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=3)
    await conn.close()
try:
    asyncio.run(main(sys.argv[1]))
except Exception as exc:
    print(f"PostgreSQL not reachable: {exc}")
    sys.exit(1)
PY
then
  echo "== tests on PostgreSQL"
  WAITLIST_EXPECT_DATABASE=postgres WAITLIST_TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "$@"
elif [ "${WAITLIST_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL is required (WAITLIST_REQUIRE_POSTGRES=1) but not reachable at $PG_URL" >&2
  exit 1
else
  echo "== PostgreSQL run skipped: nothing reachable at $PG_URL (set WAITLIST_TEST_POSTGRES_URL)"
fi
