"""megacluster for Python: the simulator and planner's library, not its command line.

    import megacluster as mc
    s = mc.load("examples/xai-colossus.toml")     # a path, TOML text, or None for the default
    s.plan()["facility_power_w"]                  # the same dicts `megacluster plan --json` prints
    s.phases()                                    # pandas DataFrames of the step, layouts, replicas,
    s.power_trace(); s.strategies()               # the power trace, multi-site strategies
    df = mc.sweep(s, {"site[0].hall[0].gpus": ["50k", "100k", "200k"]})

Figures are in SI units with the unit in the key (``_w``, ``_s``, ``_usd``), as in ``--json``.
A bad scenario or grid raises :class:`ScenarioError` with ``file``, ``line``, ``column``,
``field``, ``message`` and ``hint``. Rust computes with the GIL released, so threads run in
parallel; ``megacluster.ray.sweep`` spreads a sweep over a Ray cluster.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

from . import _core
from ._core import ModelError, ScenarioError

__all__ = [
    "Scenario",
    "ScenarioError",
    "ModelError",
    "load",
    "sweep",
    "grid_toml",
    "SECTIONS",
    "__version__",
]

__version__ = _core.__version__

#: The sections a sweep point can evaluate.
SECTIONS = ("plan", "train", "simulate", "power", "multisite")


def _pd():
    import pandas as pd  # imported on use: the package itself needs only the standard library

    return pd


def _looks_like_toml(s: str) -> bool:
    return "\n" in s or "=" in s


class Scenario:
    """A resolved scenario. Each method evaluates its sections anew through the pipeline and
    returns what ``megacluster <section> --json`` prints, as a dict."""

    def __init__(self, core: "_core.Scenario", path: Optional[str], catalogs: Sequence[str]):
        self._core = core
        self._path = path
        self._catalogs = list(catalogs)

    def __repr__(self) -> str:
        return f"<megacluster.Scenario {self.name!r} from {self.file}>"

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def file(self) -> str:
        return self._core.file

    @property
    def toml(self) -> str:
        """The scenario's TOML text."""
        return self._core.toml

    def _json(self, section: str, **kw: Any) -> dict:
        return json.loads(self._core.json(section, **kw))

    # Sections: plain dicts, equal to the CLI's JSON.
    def run(self) -> dict:
        """Every section, as ``megacluster run --json``."""
        return self._json("run")

    def plan(self) -> dict:
        return self._json("plan")

    def train(self) -> dict:
        return self._json("train")

    def search(self, top: int = 10, by: str = "tokens") -> dict:
        """Every valid layout; the best ``top`` by tokens/s or (``by="cost"``) by $ per token."""
        return self._json("search", top=top, by=by)

    def simulate(self, replicas: Optional[int] = None, target: Optional[float] = None) -> dict:
        return self._json("simulate", replicas=replicas, target=target)

    def power(self, solve: bool = False) -> dict:
        return self._json("power", solve=solve)

    def multisite(self) -> dict:
        return self._json("multisite")

    # Tables: pandas DataFrames.
    def phases(self) -> "Any":
        """The step's phases: name, duration_s, share, activity."""
        return _pd().DataFrame(self.train()["phases"], columns=["name", "duration_s", "share", "activity"])

    def layouts(self, top: int = 10, by: str = "tokens") -> "Any":
        """The best layouts, one row each, the layout's degrees as columns."""
        rows = []
        for r in self.search(top=top, by=by)["top"]:
            row = {k: v for k, v in r.items() if k != "layout"}
            lay = dict(r["layout"])
            overlap = lay.pop("overlap", {}) or {}
            row.update(lay)
            row.update({f"overlap_{k}": v for k, v in overlap.items()})
            rows.append(row)
        return _pd().DataFrame(rows)

    def replicas(self, replicas: Optional[int] = None) -> "Any":
        """Every replica of the reliability Monte Carlo: wall_s, ettr, interruptions, …"""
        return _pd().DataFrame(json.loads(self._core.replicas_json(replicas=replicas)))

    def power_trace(self, solve: bool = False) -> "Any":
        """The power section's window: t_s, raw_w and mitigated_w (and solved_w with ``solve``)."""
        return _pd().DataFrame(dict(self._core.power_trace(solve=solve)))

    def strategies(self) -> "Any":
        """The multi-site strategies, one row each (needs, as lists, left in their column)."""
        return _pd().DataFrame(self.multisite()["strategies"])

    def sweep(self, grid: Union[str, Mapping[str, Any]], **kw: Any) -> "Any":
        """A sweep with this scenario as the base (see :func:`sweep`)."""
        return sweep(self, grid, **kw)

    # The base of a sweep: what Rust needs to rebuild it anywhere (Ray workers too).
    def _base(self) -> Tuple[str, str, Optional[str], list]:
        return (self.file, self.toml, self._path, self._catalogs)


def load(path_or_toml: Optional[Union[str, os.PathLike]] = None, *, catalogs: Iterable[str] = ()) -> Scenario:
    """A scenario from a file path, from TOML text, or (``None``) the built-in default."""
    cats = [os.fspath(c) for c in catalogs]
    if path_or_toml is None:
        return Scenario(_core.load(catalogs=cats), None, cats)
    s = os.fspath(path_or_toml)
    if not os.path.exists(s) and _looks_like_toml(s):
        return Scenario(_core.load(text=s, catalogs=cats), None, cats)
    return Scenario(_core.load(path=s, catalogs=cats), s, cats)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"a grid value must be finite, got {v}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple, range)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if hasattr(v, "tolist"):  # numpy arrays and scalars
        return _toml_value(v.tolist())
    raise TypeError(f"a grid value is a number, string, bool, list or dict, got {type(v).__name__}")


def grid_toml(grid: Mapping[str, Any]) -> str:
    """A grid dict as the grid file's TOML: ``{"site[0].hall[0].gpus": ["10k", "1M"], "zip":
    [{...}, ...]}``; a dict value with ``range`` is a range, other dicts nest paths."""
    lines = []
    zips = []
    for k, v in grid.items():
        if k == "zip":
            zips = list(v)
            continue
        lines.append(f"{json.dumps(str(k))} = {_toml_value(v)}")
    for z in zips:
        lines.append("[[zip]]")
        for k, v in z.items():
            lines.append(f"{json.dumps(str(k))} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _grid(grid: Union[str, os.PathLike, Mapping[str, Any]]) -> Tuple[str, str]:
    if isinstance(grid, Mapping):
        return ("<grid>", grid_toml(grid))
    g = os.fspath(grid)
    if not os.path.exists(g) and _looks_like_toml(g):
        return ("<grid>", g)
    with open(g, encoding="utf-8") as f:
        return (g, f.read())


def _base(base: Union[None, str, os.PathLike, Scenario], catalogs: Iterable[str]) -> Tuple[str, str, Optional[str], list]:
    if isinstance(base, Scenario):
        return base._base()
    return load(base, catalogs=catalogs)._base()


_DTYPES = {"float": "float64", "int": "Int64", "uint": "UInt64", "bool": "boolean", "str": "object"}


def _frame(columns, data) -> "Any":
    pd = _pd()
    df = pd.DataFrame({name: data[name] for name, _ in columns})
    for name, kind in columns:
        df[name] = df[name].astype(_DTYPES[kind])
    return df


def _sweep_columns(base, grid, *, sections, replicas, solve, common_seed, shard, threads, catalogs):
    bfile, bsrc, bpath, bcats = _base(base, catalogs)
    gfile, gsrc = _grid(grid)
    if not isinstance(sections, str):
        sections = ",".join(sections)
    return _core.sweep(
        bfile,
        bsrc,
        bpath,
        gfile,
        gsrc,
        sections=sections,
        replicas=replicas,
        solve=solve,
        common_seed=common_seed,
        shard=shard,
        threads=threads,
        catalogs=list(bcats) or list(catalogs),
    )


def sweep(
    base: Union[None, str, os.PathLike, Scenario],
    grid: Union[str, os.PathLike, Mapping[str, Any]],
    *,
    sections: Union[str, Sequence[str]] = SECTIONS,
    replicas: int = 8,
    solve: bool = False,
    common_seed: bool = False,
    shard: Tuple[int, int] = (0, 1),
    threads: Optional[int] = None,
    catalogs: Iterable[str] = (),
) -> "Any":
    """Every point of ``grid`` over ``base`` through the pipeline: a DataFrame, one row per point
    (``point``, ``seed``, the swept fields, the sections' headline figures, ``error``), the same
    rows ``megacluster sweep`` writes. ``base``: a :class:`Scenario`, a path, TOML text or ``None``
    (the default scenario); ``grid``: a dict, a grid file's path or its TOML text. ``shard =
    (i, n)`` runs every n-th point from i."""
    cols, data = _sweep_columns(
        base,
        grid,
        sections=sections,
        replicas=replicas,
        solve=solve,
        common_seed=common_seed,
        shard=tuple(shard),
        threads=threads,
        catalogs=catalogs,
    )
    return _frame(cols, data)
