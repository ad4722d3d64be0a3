//! Benchmarks: planning throughput, and dispatch through the real outbox to an SMTP server.
//! `bench/plan` and `bench/dispatch` (shell scripts) call these and print ratios.

use anyhow::Context;
use clap::Subcommand;

/// Which benchmark.
#[derive(Subcommand, Debug)]
pub enum Which {
    /// Plan N bookings × the 8 hotel rules.
    Plan {
        /// Bookings.
        #[arg(long, default_value_t = 100_000)]
        bookings: usize,
    },
}

/// Runs a benchmark.
pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Plan { bookings } => plan(bookings).await.context("plan benchmark"),
    }
}

async fn plan(_bookings: usize) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
