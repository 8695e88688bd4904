"""The 1-GW question, as a notebook would ask it.

A gigawatt of grid connection, a 10^26-FLOP training run of a Llama-3-405B-class model
(6 × 405e9 parameters × 41.2T tokens = 1.0e26 FLOP): which GPU type, how many GPUs, on how many
sites joined by how much fiber, trains it soonest and cheapest?

    python examples/python/one_gw.py [--out DIR]

Every design is a point of a sweep (``megacluster.sweep``): GPU type × GPU count × sites × link
capacity per link (× the cross-site strategy where there are several sites). The layout of each
design is searched ("auto"), failures are counted (the reliability model's Monte Carlo on one
site, the multi-site model's goodput across sites), and the run's dollars are the whole cluster's
cost of ownership over its wall-clock time. The chart plots dollars per run against days to
train, with the designs no other beats on both (the Pareto front) joined by a line.
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import megacluster as mc  # noqa: E402

GRID_W = 1e9  # the gigawatt, shared equally by the sites
TOKENS = "41.2T"  # 1e26 / (6 × 405e9)
HALLS = 8  # halls in all, spread over the sites; a hall holds at most 65,536 GPUs (3-tier Clos)
SYSTEMS = {"hgx-h100": "H100", "gb200-nvl72": "GB200 NVL72", "gb300-nvl72": "GB300 NVL72"}
PER_HALL = [32768, 65536]  # 262,144 or 524,288 GPUs in all
LINKS_TBPS = [1, 10, 100]
SITES = [1, 2, 4]
SITE_NAMES = ["texas", "georgia", "ohio", "wisconsin"]


def base(sites: int) -> str:
    """A cluster of `sites` sites with HALLS / sites halls each, every site fed 1 GW / sites,
    joined in a ring of 800 km fiber routes; the job spans every GPU."""
    halls = HALLS // sites
    out = [f'name = "1 GW over {sites} site(s)"', "seed = 1", ""]
    for s in range(sites):
        out += ["[[site]]", f'name = "{SITE_NAMES[s]}"', f'grid = "{GRID_W / sites / 1e6:g} MW"', 'cooling = "direct-liquid"']
        for _ in range(halls):
            out += ["[[site.hall]]", 'system = "hgx-h100"', "gpus = 32768", 'fabric = "roce-800g-3tier"']
        out.append("")
    if sites > 1:
        for s in range(sites if sites > 2 else 1):
            a, b = SITE_NAMES[s], SITE_NAMES[(s + 1) % sites]
            out += ["[[link]]", f'between = ["{a}", "{b}"]', 'distance = "800 km"', 'capacity = "10 Tbps"', ""]
    out += [
        "[job]",
        'model = "llama3-405b"',
        f'tokens = "{TOKENS}"',
        "seq = 8192",
        "global_batch = 67108864   # 8,192 sequences: 4x Llama 3's 16M for 5x its GPUs (A)",
        'precision = "bf16"',
        'parallelism = "auto"',
    ]
    return "\n".join(out) + "\n"


def grid(sites: int) -> dict:
    g = {
        "site[*].hall[*].system": list(SYSTEMS),
        "site[*].hall[*].gpus": PER_HALL,
    }
    if sites > 1:
        g["link[*].capacity"] = [f"{t} Tbps" for t in LINKS_TBPS]
        g["job.sync.strategy"] = ["dp", "streaming-diloco"]
    return g


def pareto(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The rows no other row beats on both x and y (both lower is better)."""
    d = df.sort_values([x, y])
    best = float("inf")
    keep = []
    for i, r in d.iterrows():
        if r[y] < best:
            keep.append(i)
            best = r[y]
    return d.loc[keep]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="examples/python/out", help="folder for the chart and the table")
    ap.add_argument("--csv", help="chart a table this script wrote before instead of sweeping again")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    if args.csv:
        df = pd.read_csv(args.csv)
    else:
        frames = []
        for n in SITES:
            d = mc.sweep(mc.load(base(n)), grid(n), sections="plan,train,simulate,multisite", replicas=4)
            d["sites_n"] = n
            frames.append(d)
        df = pd.concat(frames, ignore_index=True)
        df["system"] = df["site[*].hall[*].system"].map(SYSTEMS)
        df["link_tbps"] = df["link[*].capacity"].fillna("—")
        df["strategy"] = df["job.sync.strategy"].fillna("one site")
        df.to_csv(os.path.join(args.out, "one_gw.csv"), index=False)

    fits = df[(df["facility_power_w"] <= df["supply_w"]) & df["days_to_train"].notna()]
    print(f"{len(df)} designs, {len(fits)} fit in 1 GW and finish the run")
    front = pareto(fits, "days_to_train", "usd_per_run")
    cols = ["system", "gpus", "sites_n", "link_tbps", "strategy", "days_to_train", "usd_per_run", "facility_power_w"]
    print("Pareto front (no design is both sooner and cheaper):")
    print(front[cols].to_string(index=False, formatters={
        "days_to_train": "{:.1f} d".format,
        "usd_per_run": lambda v: f"${v / 1e9:.2f}B",
        "facility_power_w": lambda v: f"{v / 1e6:.0f} MW",
        "gpus": "{:,}".format,
    }))

    fig, ax = plt.subplots(figsize=(9, 6), dpi=120)
    colors = {"H100": "#1f77b4", "GB200 NVL72": "#2ca02c", "GB300 NVL72": "#d62728"}
    markers = {1: "o", 2: "s", 4: "^"}
    for (system, n), d in fits.groupby(["system", "sites_n"]):
        ax.scatter(d["days_to_train"], d["usd_per_run"] / 1e9, c=colors[system], marker=markers[n],
                   s=46, alpha=0.75, edgecolors="white", linewidths=0.6)
    ax.plot(front["days_to_train"], front["usd_per_run"] / 1e9, color="black", lw=1.2, zorder=0,
            label="Pareto front")
    for k, (_, r) in enumerate(front.iterrows()):
        where = "1 site" if r["sites_n"] == 1 else f"{r['sites_n']} sites, {r['link_tbps']}, {r['strategy']}"
        ax.annotate(f"{r['gpus'] / 1e3:.0f}k {r['system']}: {r['days_to_train']:.1f} d, ${r['usd_per_run'] / 1e9:.2f}B\n{where}",
                    (r["days_to_train"], r["usd_per_run"] / 1e9), textcoords="offset points",
                    xytext=(-20, 70 + 45 * k), fontsize=8,
                    arrowprops=dict(arrowstyle="-", color="grey", lw=0.6))
    # legends: colour is the GPU, shape the site count
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, marker="o", ls="", label=s) for s, c in colors.items()]
    handles += [Line2D([], [], color="grey", marker=m, ls="", label=f"{n} site{'s' if n > 1 else ''}") for n, m in markers.items()]
    handles.append(Line2D([], [], color="black", lw=1.2, label="Pareto front"))
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("days to train 1e26 FLOP (failures counted), log scale")
    ax.set_ylabel("\\$ per run (cluster TCO over the run), log scale")
    ax.set_title("1 GW, Llama-3-405B-class run of 1e26 FLOP: cost against time", fontsize=11)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if str(f"{v:g}")[0] in "25" else ""))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:g}B"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"${v:g}B" if str(f"{v:g}").lstrip("0.")[:1] in "25" else ""))
    ax.tick_params(which="both", labelsize=8)
    ax.grid(True, which="both", alpha=0.25)
    fig.tight_layout()
    png = os.path.join(args.out, "one_gw.png")
    fig.savefig(png)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
