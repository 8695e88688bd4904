"""The Python package against the CLI: the same scenario gives the same JSON; errors carry their
place; the DataFrames agree with the sections they come from; Rust runs with the GIL released."""

import json
import threading

import pandas as pd
import pytest

import megacluster as mc
from conftest import ROOT, cli_json

FIVE = str(ROOT / "examples" / "five-regions.toml")
TPU = str(ROOT / "examples" / "google-multisite-tpu.toml")


@pytest.fixture(scope="module")
def default():
    return mc.load()


@pytest.mark.parametrize(
    "section,kw,args",
    [
        ("plan", {}, ["plan"]),
        ("train", {}, ["train"]),
        ("search", {"top": 3, "by": "cost"}, ["search", "--top", "3", "--by", "cost"]),
        ("simulate", {"replicas": 24}, ["simulate", "--replicas", "24"]),
        ("power", {}, ["power"]),
        ("run", {}, ["run"]),
    ],
)
def test_sections_equal_the_cli_json(default, section, kw, args):
    assert getattr(default, section)(**kw) == cli_json(*args)


def test_a_file_and_multisite_equal_the_cli_json():
    s = mc.load(TPU)
    assert s.multisite() == cli_json("multisite", TPU)
    assert s.plan() == cli_json("plan", TPU)


def test_toml_text_loads_like_a_file(root):
    text = (root / "examples" / "xai-colossus.toml").read_text()
    assert mc.load(text).plan()["gpus"] == mc.load(str(root / "examples" / "xai-colossus.toml")).plan()["gpus"]


def test_errors_carry_file_line_column_and_field(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\n[[site]]\nname = "a"\n[[site.hall]]\nsystem = "hgx-h1000"\ngpus = 8\nfabric = "roce-400g-3tier"\n')
    with pytest.raises(mc.ScenarioError) as e:
        mc.load(str(p))
    err = e.value
    assert (err.file, err.line, err.column, err.field) == (str(p), 5, 10, "site[0].hall[0].system")
    assert err.hint == "did you mean `hgx-h100`?"
    assert "no system named `hgx-h1000`" in err.message
    assert isinstance(err, ValueError)
    # a bad grid value: at its place in the grid, naming the point
    with pytest.raises(mc.ScenarioError) as e:
        mc.sweep(None, '"site[0].hall[0].system" = ["hgx-h100", "hgx-h1000"]\n', sections="plan")
    assert (e.value.file, e.value.line, e.value.column) == ("<grid>", 1, 41)
    assert "point 1" in e.value.message
    # a scenario without a job has no train section, as on the CLI
    nojob = mc.load('name = "x"\n[[site]]\nname = "a"\n[[site.hall]]\nsystem = "hgx-h100"\ngpus = 8\nfabric = "roce-400g-3tier"\n')
    with pytest.raises(ValueError, match="no \\[job\\] section"):
        nojob.train()


def test_frames_agree_with_their_sections(default):
    t = default.train()
    ph = default.phases()
    assert list(ph["name"]) == [p["name"] for p in t["phases"]]
    assert ph["duration_s"].sum() == pytest.approx(t["step_time_s"], rel=1e-9)
    # the best layout of the search is the layout train runs ("auto")
    lay = default.layouts(top=2)
    assert len(lay) == 2
    for k in ("tp", "pp", "cp", "ep", "dp", "microbatch"):
        assert lay[k][0] == t["layout"][k]
    assert lay["step_time_s"][0] == pytest.approx(t["step_time_s"], rel=1e-12)
    # every replica of the Monte Carlo: their mean ETTR is the summary's
    reps = default.replicas(replicas=16)
    sim = default.simulate(replicas=16)
    assert len(reps) == 16
    assert reps["ettr"].mean() == pytest.approx(sim["ettr"]["mean"], rel=1e-12)
    assert reps["wall_s"].mean() == pytest.approx(sim["wall_s"]["mean"], rel=1e-12)
    # the power trace: its peak and minimum are the section's raw figures
    tr = default.power_trace()
    pw = default.power()
    assert len(tr) == round(pw["window_s"] / pw["resolution_s"])
    assert tr["raw_w"].max() == pytest.approx(pw["raw"]["peak_w"], rel=1e-12)
    assert tr["raw_w"].max() - tr["raw_w"].min() == pytest.approx(pw["raw"]["swing_w"], rel=1e-9)
    st = mc.load(TPU).strategies()
    assert set(st["name"]) == {"dp", "pipeline", "diloco", "streaming-diloco"}


GRID = {
    "site[0].hall[0].gpus": ["100k", "120k", "140k"],
    "site[0].grid": ["150 MW", "250 MW"],
    "job.tokens": {"range": ["15T", "30T"], "step": "15T"},
    "power.window": "2 min",
}


def test_sweep_equals_the_cli_sweep(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(mc.grid_toml(GRID))
    df = mc.sweep(None, str(grid), sections="plan,train,simulate,power", replicas=2)
    assert len(df) == 12 and df["error"].isna().all()
    out = tmp_path / "out.csv"
    from conftest import cli

    cli("sweep", "--grid", str(grid), "--sections", "plan,train,simulate,power", "--replicas", "2", "--out", str(out))
    csv = pd.read_csv(out, keep_default_na=True)
    assert list(csv.columns) == list(df.columns)
    for c in df.columns:
        a, b = df[c], csv[c]
        if c == "error":
            assert b.isna().all()
        elif df[c].dtype == object:
            assert list(a) == [str(x) for x in b], c
        else:
            assert list(a.astype("float64")) == list(b.astype("float64")), c
    # Parquet from the CLI reads back as the same frame
    pq = tmp_path / "out.parquet"
    cli("sweep", "--grid", str(grid), "--sections", "plan,train,simulate,power", "--replicas", "2", "--out", str(pq))
    back = pd.read_parquet(pq)
    assert list(back.columns) == list(df.columns)
    def plain(col):
        return [None if pd.isna(x) else x for x in col.tolist()]

    for c in df.columns:
        assert plain(back[c]) == plain(df[c]), c


def test_shards_concatenate_to_the_whole_sweep():
    whole = mc.sweep(None, GRID, sections="plan,train,simulate", replicas=2, threads=2)
    parts = [mc.sweep(None, GRID, sections="plan,train,simulate", replicas=2, shard=(i, 5), threads=1) for i in range(5)]
    joined = pd.concat(parts).sort_values("point").reset_index(drop=True)
    pd.testing.assert_frame_equal(joined, whole)


def test_the_gil_is_released_while_rust_computes(default):
    # Python keeps counting on the main thread while another thread waits on Rust
    done = threading.Event()
    out = {}

    def work():
        out["run"] = default.simulate(replicas=64)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    n = 0
    while not done.is_set():
        n += 1
    t.join()
    assert out["run"]["replicas"] == 64
    assert n > 100_000, f"the main thread ran only {n} loops while Rust computed"
