#!/usr/bin/env bash
# The Python package's tests, from this checkout: a virtual environment (target/py-venv, made when
# missing), the wheel built from python/ with maturin and installed into it (`pip install
# ./python`), then pytest (python/tests: the API against the CLI's JSON, sweeps, shards, Ray on a
# local two-CPU cluster) and the worked example examples/python/one_gw.py (its chart goes to
# target/one_gw/). Needs python3 (3.9-3.13: Ray's wheels) with venv, and PyPI.
#
# PYTHON_INSTALL=1 (CI, as root): install Debian's python3 and python3-venv first when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! "${PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null; then
    if [ "${PYTHON_INSTALL:-}" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
    else
        echo "python-tests: needs ${PYTHON:-python3} (3.9-3.13) with venv (Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
venv=${MEGACLUSTER_VENV:-target/py-venv}
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac   # absolute: the tests run from python/tests
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check maturin pandas pytest ray matplotlib pyarrow
# the CLI the tests compare with
cargo build --release --locked -p megacluster
PATH="$venv/bin:$PATH" "$py" -m pip install -q --disable-pip-version-check \
    --no-build-isolation --force-reinstall --no-deps ./python
"$py" -c "import megacluster; print('megacluster', megacluster.__version__, 'from', megacluster.__file__)"
# pytest from outside the source folder, so the installed package is the one under test
(cd python/tests && MEGACLUSTER_BIN="$PWD/../../target/release/megacluster" "$py" -m pytest -q -p no:cacheprovider .)
MPLBACKEND=Agg "$py" examples/python/one_gw.py --out target/one_gw
