#!/usr/bin/env bash
# The whole test suite (README's second command): every Rust test, then the Python package's
# (scripts/python-tests.sh: the wheel built into a virtual environment, pytest, Ray, the example).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release --locked
scripts/python-tests.sh
