//! `megacluster serve [--addr 127.0.0.1:8080]`: the web planner (crate `web`).

use crate::{CliError, Common};
use std::net::SocketAddr;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on; loopback by default (the page has no login).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Computations at once; further requests wait in a short queue, then get 503.
    #[arg(long, default_value_t = 2)]
    pub max_computations: usize,
    /// Longest one computation may run, seconds.
    #[arg(long, default_value_t = 60)]
    pub time_limit: u64,
    /// Compute on the server's own threads instead of one worker process per computation (a model
    /// that aborts then ends the server).
    #[arg(long)]
    pub in_process: bool,
    /// Internal: run one computation read from stdin (the server starts these).
    #[arg(long, hide = true)]
    pub worker: bool,
}

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    if args.worker {
        return match web::work::worker_main() {
            0 => Ok(String::new()),
            c => Err(CliError {
                code: c,
                message: "error: bad worker request".into(),
            }),
        };
    }
    if !common.catalogs.is_empty() {
        return Err(CliError::input(
            "serve reads no files: --catalog does not apply (define entries inline in the scenario)",
        ));
    }
    let cfg = web::Config {
        addr: args.addr,
        max_running: args.max_computations.max(1),
        time_limit: std::time::Duration::from_secs(args.time_limit.max(1)),
        worker: if args.in_process {
            None
        } else {
            Some(std::env::current_exe().map_err(|e| {
                CliError::internal(format!("cannot find the megacluster executable: {e}"))
            })?)
        },
        ..web::Config::default()
    };
    web::serve(cfg).map_err(|e| CliError::input(format!("cannot serve on {}: {e}", args.addr)))?;
    Ok(String::new())
}
