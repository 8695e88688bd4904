import os
import subprocess
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli_path() -> str:
    p = os.environ.get("MEGACLUSTER_BIN", str(ROOT / "target" / "release" / "megacluster"))
    if not os.path.exists(p):
        pytest.fail(f"the megacluster binary is not at {p}: build it (cargo build --release) or set MEGACLUSTER_BIN")
    return p


def cli(*args: str) -> str:
    out = subprocess.run([cli_path(), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def cli_json(*args: str):
    return json.loads(cli("--json", *args))


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT
