#!/usr/bin/env bash
# The web planner (`megacluster serve`) in a real browser: headless Chromium driven by
# playwright-core (npm). Starts the server on a free loopback port, loads the page, picks presets,
# moves sliders, types a bad value into the editor, compares two presets, downloads the JSON, and
# checks every figure against `megacluster run --json` on the same scenario.
#
#   scripts/check-web.sh            # needs chromium, node and npm
#   scripts/check-web.sh --install  # installs Debian's chromium (and nodejs/npm) first when missing (root)
#
# Exit code 0: passed; 1: a check failed; 3: the browser or its driver could not be had (not run).
# Screenshots are left in $OUT (default target/web-check) for a look by eye.
set -euo pipefail
cd "$(dirname "$0")/.."

PLAYWRIGHT_VERSION=1.65.1
find_chrome() {
    command -v chromium || command -v chromium-browser || command -v google-chrome || true
}
CHROME="${CHROME:-$(find_chrome)}"
if [ "${1:-}" = "--install" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    pkgs=""
    [ -z "$CHROME" ] && pkgs="$pkgs chromium"
    command -v node >/dev/null || pkgs="$pkgs nodejs"
    command -v npm >/dev/null || pkgs="$pkgs npm"
    if [ -n "$pkgs" ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null || true
        CHROME="${CHROME:-$(find_chrome)}"
    fi
fi
if [ -z "$CHROME" ]; then
    echo "check-web: chromium not found (Debian: apt-get install chromium; or set CHROME=/path)" >&2
    exit 3
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "check-web: node and npm not found (Debian: apt-get install nodejs npm)" >&2
    exit 3
fi

OUT="${OUT:-target/web-check}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
DRIVER="$PWD/target/web-driver"
if [ ! -d "$DRIVER/node_modules/playwright-core" ]; then
    mkdir -p "$DRIVER"
    (cd "$DRIVER" && npm install --silent --no-audit --no-fund "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null 2>&1) || {
        echo "check-web: npm could not install playwright-core@$PLAYWRIGHT_VERSION" >&2
        exit 3
    }
fi

cargo build --release --locked --quiet
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release/megacluster"

# The server picks a free loopback port itself (port 0) and says where it listens.
LOG="$OUT/serve.log"
"$BIN" serve --addr 127.0.0.1:0 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
URL=""
for _ in $(seq 1 100); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$LOG" | head -1 || true)
    [ -n "$URL" ] && break
    sleep 0.1
done
if [ -z "$URL" ]; then
    echo "FAIL the server did not start: $(cat "$LOG")"
    exit 1
fi

rc=0
NODE_PATH="$DRIVER/node_modules" CHROME="$CHROME" BIN="$BIN" OUT="$OUT" URL="$URL" \
    timeout 600 node scripts/check-web.cjs || rc=$?
# The server must still be serving after all of it.
if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "FAIL the server exited during the check: $(tail -5 "$LOG")"
    rc=1
fi
exit $rc
