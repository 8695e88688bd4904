#!/usr/bin/env bash
# Render the HTML report of the default scenario and of every example in headless Chromium and
# check that each page loads without console errors or network requests and shows every chart.
#
#   scripts/check-html.sh            # needs chromium (Debian: apt-get install chromium)
#   scripts/check-html.sh --install  # installs Debian's chromium first when it is missing (root)
#
# Screenshots of each page are left in $OUT (default: target/html-check) for a look by eye.
set -euo pipefail
cd "$(dirname "$0")/.."

find_chrome() {
    command -v chromium || command -v chromium-browser || command -v google-chrome || true
}
CHROME="${CHROME:-$(find_chrome)}"
if [ -z "$CHROME" ] && [ "${1:-}" = "--install" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        CHROME="$(find_chrome)"
    fi
fi
if [ -z "$CHROME" ]; then
    echo "check-html: chromium not found (Debian: apt-get install chromium; or set CHROME=/path)" >&2
    exit 3
fi

OUT="${OUT:-target/html-check}"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)   # absolute, so the file:// URLs below hold for a relative or absolute OUT
cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/megacluster"

fail=0
check() {
    local name="$1"
    shift
    local dir="$OUT/$name"
    "$BIN" run "$@" --html "$dir" >/dev/null 2>"$dir.run.txt" || {
        echo "FAIL $name: megacluster run failed: $(cat "$dir.run.txt")"
        fail=1
        return
    }
    local page="$dir/index.html"
    local expected
    expected=$({ grep -o 'name="megacluster-charts" content="[0-9]*"' "$page" || echo 0; } | grep -o '[0-9][0-9]*' | tail -1)
    # Network references other than the SVG namespace URI would break offline viewing.
    if grep -o '\(src\|href\)="[a-z]*://[^"]*"' "$page" | grep -q .; then
        echo "FAIL $name: the page references the network"
        fail=1
    fi
    local dom="$dir/dom.html" log="$dir/console.txt"
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --enable-logging=stderr --v=0 --virtual-time-budget=2000 \
        --dump-dom "file://$page" >"$dom" 2>"$log" || {
        echo "FAIL $name: chromium exited with an error (see $log)"
        fail=1
        return
    }
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --window-size=1280,4000 --screenshot="$dir/screenshot.png" \
        "file://$page" >/dev/null 2>&1 || true
    local figures svgs empty
    count() { { grep -o "$1" "$2" || true; } | wc -l; }
    figures=$(count '<figure data-chart=' "$dom")
    svgs=$(count '<svg ' "$dom")
    empty=$(count '>no data</text>' "$dom")
    if grep -qiE 'CONSOLE.*(error|Uncaught)|Failed to load|ERR_' "$log"; then
        echo "FAIL $name: console errors:"
        grep -iE 'CONSOLE|Failed to load|ERR_' "$log" | head -5
        fail=1
    elif [ "$figures" -ne "$expected" ] || [ "$svgs" -lt "$expected" ] || [ "$expected" -eq 0 ]; then
        echo "FAIL $name: $expected charts expected, $figures figures and $svgs SVG elements rendered"
        fail=1
    elif [ "$empty" -gt 0 ]; then
        echo "FAIL $name: $empty chart(s) drawn without data"
        fail=1
    else
        echo "ok   $name: $figures charts rendered ($page)"
    fi
}

check default
for f in examples/*.toml; do
    check "$(basename "$f" .toml)" "$f"
done
exit $fail
