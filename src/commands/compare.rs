//! `compare`: a PNG sheet of input and output frames at the same times.

use ainimotion::cli::CompareArgs;
use ainimotion::lab::compare::{compare, CompareOptions};

use super::out;

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let bands = compare(&CompareOptions {
        input: args.input.clone(),
        output: args.output.clone(),
        times: args.at.clone(),
        input_offset: args.clip_start,
        sheet: args.out.clone(),
        overwrite: args.overwrite,
    })?;
    for b in &bands {
        let (x, y, w, h) = b.crop;
        out(&format!(
            "{}: zoom of output pixels {w}x{h} at ({x}, {y})\n",
            ainimotion::clip::format_time(b.time)
        ))?;
    }
    out(&format!("wrote {}\n", args.out.display()))?;
    Ok(())
}
