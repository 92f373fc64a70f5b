//! Benchmarks (temporary shell; filled in below).
use std::path::Path;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    pub which: String,
}

pub fn run(_db: &Path, _a: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("todo")
}
