# shellcheck shell=bash
# Sourced by tools/run, tools/test, bench/run and .ci/run: one way to find Odoo 18.
#
#   ODOO_BIN      the odoo command (default: `odoo` on PATH)
#   ODOO_PYTHON   the Python that runs it (default: read from ODOO_BIN's shebang)
#   CLM_WORKDIR   where the addons link folder and logs live
#                 (default: ~/.cache/crm_lost_management)

CLM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLM_WORKDIR=${CLM_WORKDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crm_lost_management}

clm_find_odoo() {
    local version
    ODOO_BIN=${ODOO_BIN:-$(command -v odoo || true)}
    if [ -z "$ODOO_BIN" ] || ! version=$("$ODOO_BIN" --version 2>/dev/null) \
        || [[ "$version" != *"Odoo Server 18."* ]]; then
        echo "ERROR: Odoo 18 not found: no 'odoo' command answering 'Odoo Server 18.x' on PATH (set ODOO_BIN to point elsewhere)." >&2
        return 1
    fi
    if [ -z "${ODOO_PYTHON:-}" ]; then
        ODOO_PYTHON=$(head -n 1 "$(readlink -f "$ODOO_BIN")" | sed -e 's/^#! *//' -e 's/ .*//')
    fi
    if ! "$ODOO_PYTHON" -c 'import odoo' 2>/dev/null; then
        echo "ERROR: Odoo 18 not found: '$ODOO_PYTHON' (the Python of $ODOO_BIN) cannot import odoo (set ODOO_PYTHON)." >&2
        return 1
    fi
    # Module name = directory name: expose the repository as crm_lost_management.
    mkdir -p "$CLM_WORKDIR/addons"
    ln -sfn "$CLM_ROOT" "$CLM_WORKDIR/addons/crm_lost_management"
    ODOO_ADDONS_PATH=$("$ODOO_PYTHON" - "$CLM_WORKDIR/addons" <<'PY'
import os, sys
import odoo
root = os.path.dirname(os.path.abspath(odoo.__file__))
paths = [os.path.join(root, "addons"), os.path.join(os.path.dirname(root), "addons"), sys.argv[1]]
print(",".join(p for p in paths if os.path.isdir(p)))
PY
)
    export ODOO_BIN ODOO_PYTHON ODOO_ADDONS_PATH CLM_ROOT CLM_WORKDIR
}

clm_start_postgres() {
    # Start a local PostgreSQL cluster when none answers (Debian layout).
    if ! pg_isready -q 2>/dev/null && command -v pg_lsclusters >/dev/null; then
        pg_lsclusters -h | while read -r ver name _; do
            pg_ctlcluster "$ver" "$name" start || true
        done
        for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
    fi
    if [ "$(id -u)" = 0 ] && ! psql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
        su postgres -c "psql -q -c 'CREATE ROLE root SUPERUSER LOGIN'" || true
    fi
}
