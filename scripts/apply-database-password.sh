#!/usr/bin/env bash
# Sets the database role's password to NEW_PASSWORD, logging in with CURRENT_PASSWORD (the
# password the previous rotation set) or, on the first run, BOOTSTRAP_PASSWORD (the one the
# database had before this program managed it). Run by the SupabaseCredentials command resource.
#
# Environment: PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE (libpq), NEW_PASSWORD, CURRENT_PASSWORD,
# BOOTSTRAP_PASSWORD (may be empty). No password is ever printed or put on a command line.
set -euo pipefail

fail() { echo "apply-database-password: $*" >&2; exit 1; }

command -v psql >/dev/null || fail "psql is not installed on the machine running pulumi up"
: "${PGHOST:?}" "${PGPORT:?}" "${PGDATABASE:?}" "${PGUSER:?}" "${NEW_PASSWORD:?}"
# Generated passwords are letters and digits only: safe inside an SQL literal without escaping.
[[ "$NEW_PASSWORD" =~ ^[A-Za-z0-9]{32,}$ ]] || fail "NEW_PASSWORD must be at least 32 letters and digits"

can_login() {
    PGPASSWORD="$1" PGCONNECT_TIMEOUT=10 psql -X -q -t -v ON_ERROR_STOP=1 -c "select 1" >/dev/null 2>&1
}

if can_login "$NEW_PASSWORD"; then
    echo "apply-database-password: ${PGUSER}@${PGHOST}:${PGPORT} already has the new password"
    exit 0
fi

login=""
for candidate in "${CURRENT_PASSWORD:-}" "${BOOTSTRAP_PASSWORD:-}"; do
    if [[ -n "$candidate" ]] && can_login "$candidate"; then login="$candidate"; break; fi
done
[[ -n "$login" ]] || fail "cannot log in to ${PGUSER}@${PGHOST}:${PGPORT}/${PGDATABASE} with the previous generated password or databaseBootstrapPassword; set databaseBootstrapPassword (pulumi config set --secret) to the role's current password"

# The statement goes through stdin, never argv, so the password is not visible in the process list.
printf "ALTER ROLE CURRENT_USER WITH PASSWORD '%s';\n" "$NEW_PASSWORD" \
    | PGPASSWORD="$login" psql -X -q -v ON_ERROR_STOP=1 >/dev/null 2>&1 \
    || fail "ALTER ROLE failed for ${PGUSER}@${PGHOST}:${PGPORT}"

can_login "$NEW_PASSWORD" || fail "the new password was set but does not log in to ${PGUSER}@${PGHOST}:${PGPORT}"
echo "apply-database-password: password of ${PGUSER}@${PGHOST}:${PGPORT} rotated"
