//! `megacluster sweep [base.toml] --grid grid.toml [--sections …] [--out FILE.csv|.parquet]
//! [--shard i/N] [--where EXPR] [--minimize COLS]`: every point of a grid over the base
//! scenario's fields through the pipeline, one row of headline figures each (the `sweep` crate);
//! `--merge` joins sharded CSV outputs into the unsharded one.

use crate::{CliError, Common};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use sweep::{Cell, Pass, RunOptions, Sections, Shard, Sweep};

#[derive(clap::Args)]
pub struct Args {
    /// Base scenario file (TOML); the built-in default when absent.
    pub base: Option<PathBuf>,
    /// Grid file: scenario field paths and their values (`"site[0].hall[0].gpus" = ["10k",
    /// "100k"]`, ranges `{ range = [a, b], step = s }` or `count = n`, `[[zip]]` groups).
    #[arg(long, value_name = "FILE", required_unless_present = "merge")]
    pub grid: Option<PathBuf>,
    /// Sections each point evaluates, comma-separated: plan, train, simulate, power, multisite.
    #[arg(long, default_value = "plan,train,simulate,power,multisite")]
    pub sections: String,
    /// Write every row here: .csv, or .parquet. Without it the rows go to stdout as CSV (unless
    /// --where or --minimize is given).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Run every N-th point from i (0 ≤ i < N), e.g. `$SLURM_ARRAY_TASK_ID/32` or
    /// `$JOB_COMPLETION_INDEX/32`; `--merge` joins the shards' CSVs.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
    /// Monte Carlo replicas per point (reliability section).
    #[arg(long, default_value_t = sweep::DEFAULT_REPLICAS)]
    pub replicas: u64,
    /// The power section also finds the cheapest passing mitigations (slower).
    #[arg(long)]
    pub solve: bool,
    /// Run every point at the scenario's own seed (common random numbers) instead of a seed
    /// derived from (seed, point).
    #[arg(long)]
    pub common_seed: bool,
    /// Only check every point (with located errors) and count them.
    #[arg(long)]
    pub check: bool,
    /// Keep the points that meet these comparisons, e.g. "days_to_train <= 90 and fits == true".
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Print the best point by this column (lowest), or with several columns the Pareto front.
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub minimize: Vec<String>,
    /// At most this many selected points printed.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Join these sharded CSV outputs (rows ordered by point) into --out (or stdout).
    #[arg(long, value_name = "FILES", num_args = 1.., conflicts_with_all = ["grid", "base"])]
    pub merge: Vec<PathBuf>,
}

fn read(p: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(p)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", p.display())))
}

/// Where the rows go as they come.
enum Sink {
    Csv(Box<csv::Writer<Box<dyn Write + Send>>>),
    Parquet(sweep::parquet::ParquetWriter<std::io::BufWriter<std::fs::File>>),
    None,
}

fn create(p: &Path) -> Result<std::fs::File, CliError> {
    std::fs::File::create(p)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", p.display())))
}

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    if !args.merge.is_empty() {
        return merge(args);
    }
    let sections =
        Sections::parse(&args.sections).map_err(|m| CliError::input(format!("--sections: {m}")))?;
    let shard = match &args.shard {
        Some(s) => Shard::parse(s).map_err(CliError::input)?,
        None => Shard::all(),
    };
    if args.replicas == 0 {
        return Err(CliError::input("--replicas must be at least 1"));
    }
    let (file, src) = spec::read_scenario(args.base.as_deref()).map_err(CliError::input)?;
    let cats: Vec<&Path> = common.catalogs.iter().map(|p| p.as_path()).collect();
    let catalog = spec::scenario_catalog(args.base.as_deref(), &file, &src, &cats)
        .map_err(CliError::input)?;
    let grid_path = args
        .grid
        .as_deref()
        .ok_or_else(|| CliError::input("--grid FILE is required"))?;
    let grid = sweep::Grid::parse(&grid_path.display().to_string(), &read(grid_path)?)
        .map_err(CliError::input)?;
    let sw = Sweep::new(&file, &src, catalog, grid).map_err(CliError::input)?;
    let opts = RunOptions {
        sections,
        replicas: args.replicas,
        solve: args.solve,
        common_seed: args.common_seed,
        threads: None,
    };
    let columns = sw.columns(&opts);
    let filter = args
        .filter
        .as_deref()
        .map(|e| sweep::select::Filter::parse(e, &columns))
        .transpose()
        .map_err(|m| CliError::input(format!("--where: {m}")))?;
    let objectives: Vec<usize> = args
        .minimize
        .iter()
        .map(|n| sweep::select::column(n.trim(), &columns))
        .collect::<Result<_, _>>()
        .map_err(|m| CliError::input(format!("--minimize: {m}")))?;
    let selecting = filter.is_some() || !objectives.is_empty();
    let bar = bar();
    let progress = |pass: Pass, done: u64, total: u64| {
        if done == 1 {
            bar.set_message(match pass {
                Pass::Validate => "checking points",
                Pass::Run => "running points",
            });
            bar.reset();
            bar.set_length(total);
        }
        if done % 16 == 0 || done == total {
            bar.set_position(done);
        }
    };
    // every point is checked before any output is opened or any work starts
    let n = sw.validate(shard, &progress);
    if args.check || n.is_err() {
        bar.finish_and_clear();
    }
    let n = n.map_err(CliError::input)?;
    if args.check {
        return Ok(format!("{n} points of {} ok\n", sw.len()));
    }
    let mut sink = match &args.out {
        Some(p) if p.extension().is_some_and(|e| e == "parquet") => Sink::Parquet(
            sweep::parquet::ParquetWriter::new(
                std::io::BufWriter::new(create(p)?),
                columns.clone(),
            )
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", p.display())))?,
        ),
        Some(p) if p.extension().is_some_and(|e| e == "csv") => Sink::Csv(Box::new(
            csv::Writer::from_writer(Box::new(std::io::BufWriter::new(create(p)?))),
        )),
        Some(p) => {
            return Err(CliError::input(format!(
                "--out {}: write .csv or .parquet",
                p.display()
            )))
        }
        None if selecting => Sink::None,
        None => Sink::Csv(Box::new(csv::Writer::from_writer(Box::new(
            std::io::stdout(),
        )))),
    };
    if let Sink::Csv(w) = &mut sink {
        w.write_record(columns.iter().map(|c| c.name.as_str()))
            .map_err(CliError::internal)?;
    }
    let kept: Mutex<Vec<Vec<Cell>>> = Mutex::new(vec![]);
    let r = sw.evaluate_with::<String>(&opts, shard, &progress, &mut |rows| {
        match &mut sink {
            Sink::Csv(w) => {
                for r in &rows {
                    w.write_record(r.iter().map(Cell::text))
                        .map_err(|e| e.to_string())?;
                }
            }
            Sink::Parquet(w) => w.write_rows(&rows).map_err(|e| e.to_string())?,
            Sink::None => {}
        }
        if selecting {
            let mut k = kept.lock().map_err(|_| "a worker failed".to_string())?;
            k.extend(
                rows.into_iter()
                    .filter(|r| filter.as_ref().is_none_or(|f| f.keeps(r))),
            );
        }
        Ok(())
    });
    bar.finish_and_clear();
    let out_err = |e: String| CliError::input(format!("cannot write the rows: {e}"));
    r.map_err(CliError::input)?.map_err(out_err)?;
    match sink {
        Sink::Csv(mut w) => w.flush().map_err(|e| out_err(e.to_string()))?,
        Sink::Parquet(w) => {
            w.finish().map_err(|e| out_err(e.to_string()))?;
        }
        Sink::None => {}
    }
    if let Some(p) = &args.out {
        eprintln!("wrote {}", p.display());
    }
    if !selecting {
        return Ok(String::new());
    }
    let kept = kept.into_inner().unwrap_or_default();
    let all: Vec<usize> = (0..kept.len()).collect();
    let (heading, mut chosen) = match objectives.len() {
        0 => (
            format!("{} of {} points meet the constraints", kept.len(), sw.len()),
            all,
        ),
        1 => {
            let best = sweep::select::pareto(&kept, &all, &objectives);
            (
                format!(
                    "Best of {} points{} by lowest {}",
                    kept.len(),
                    if filter.is_some() {
                        " that meet the constraints"
                    } else {
                        ""
                    },
                    args.minimize[0]
                ),
                best.into_iter().take(1).collect(),
            )
        }
        _ => (
            format!(
                "Pareto front of {} points{} (lowest {})",
                kept.len(),
                if filter.is_some() {
                    " that meet the constraints"
                } else {
                    ""
                },
                args.minimize.join(", ")
            ),
            sweep::select::pareto(&kept, &all, &objectives),
        ),
    };
    let more = chosen.len().saturating_sub(args.top);
    chosen.truncate(args.top);
    let rows: Vec<&[Cell]> = chosen.iter().map(|&i| kept[i].as_slice()).collect();
    if common.json {
        let mut t = serde_json::to_string_pretty(&report::sweep::json(&columns, &rows))
            .map_err(CliError::internal)?;
        t.push('\n');
        return Ok(t);
    }
    // the point, its swept values, then the figures the question names and the run's
    let mut show: Vec<usize> = vec![0];
    show.extend(2..2 + sw.grid().columns().count());
    let named: Vec<&str> = args
        .minimize
        .iter()
        .map(|s| s.trim())
        .chain(["days_to_train", "usd_per_run", "facility_power_w", "gpus"])
        .collect();
    for n in named {
        if let Some(i) = columns.iter().position(|c| c.name == n) {
            if !show.contains(&i) {
                show.push(i);
            }
        }
    }
    let mut t = report::sweep::text(&heading, &columns, &rows, &show);
    if more > 0 {
        t.push_str(&format!("  … and {more} more (--top)\n"));
    }
    Ok(t)
}

fn merge(args: &Args) -> Result<String, CliError> {
    let inputs: Vec<(String, String)> = args
        .merge
        .iter()
        .map(|p| Ok((p.display().to_string(), read(p)?)))
        .collect::<Result<_, CliError>>()?;
    let csv = sweep::table::merge_csv(&inputs).map_err(CliError::input)?;
    match &args.out {
        Some(p) => {
            std::fs::write(p, csv)
                .map_err(|e| CliError::input(format!("cannot write {}: {e}", p.display())))?;
            eprintln!("wrote {}", p.display());
            Ok(String::new())
        }
        None => Ok(csv),
    }
}

/// Points done, points per second and the time left, on stderr (drawn only on a terminal).
fn bar() -> indicatif::ProgressBar {
    let b =
        indicatif::ProgressBar::with_draw_target(Some(1), indicatif::ProgressDrawTarget::stderr());
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:40} {human_pos}/{human_len} points ({per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}
