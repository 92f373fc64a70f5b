//! `dermdesk charts demo OUT`: writes invented charts (and, given images, an invented photo
//! archive layout) with the known truth of every link.

use super::print_json;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Folder to write into (created).
    pub out: PathBuf,
    #[arg(long, default_value_t = 200)]
    pub patients: usize,
    #[arg(long, default_value_t = 16)]
    pub seed: u64,
    /// Copy images from this folder into the photo layout (each file used once).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let images: Vec<PathBuf> = match &a.images {
        None => Vec::new(),
        Some(dir) => {
            let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
                })
                .collect();
            v.sort();
            v
        }
    };
    let s = crate::charts::demo::write_demo(&a.out, a.seed, a.patients, &images)?;
    if a.json {
        return print_json(&s);
    }
    outln!(
        "INVENTED charts in {}: {} patients, {} visit rows, {} SS-MIX2 messages, {} photos in truth.csv ({} image files)",
        a.out.display(),
        s.patients,
        s.visit_rows,
        s.ssmix2_messages,
        s.photos,
        s.photo_files
    );
    Ok(())
}
