//! A sampling profiler of guest code: where a program's time goes, by wasm function.
//!
//! It rides on fuel metering, so it costs nothing when off: the interpreter already counts
//! one unit per call and per backward jump when metered, and a profiled store is metered
//! with a budget of `interval` units. When the budget runs out the (cold) refill takes a
//! sample instead of trapping: the clock time since the previous sample is charged to the
//! call stack of that moment (the functions of `StoreInner::frames`, outermost first). Time
//! in a host function is charged exactly, to the stack of its caller plus the host function,
//! by samples taken around the host call. A stack deeper than 256 frames keeps its
//! innermost 256 below an `[outer frames]` entry (as perf keeps 127), so deep recursion
//! cannot make the profile's memory grow with the square of the depth.
//!
//! Like every sampling profiler it is statistical: a stretch of straight-line code is
//! charged to whatever stack the next call or backward jump has. So a function that
//! neither loops nor calls (the fast path of `PyObject_Malloc`, a short `memcpy`) is never
//! on top of a sample: its time is its caller's self time. At the default interval
//! (1,000 units) CPython takes a sample every ~0.1 ms, often enough for functions of a few
//! per cent; a sample costs a clock read and a hash of the stack.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::store::{Frame, StoreInner};

/// Frames of a stack a sample keeps (the innermost; deeper stacks start with
/// [`OUTER_FRAMES`]), as perf keeps 127.
const MAX_FRAMES: usize = 256;
/// Stands for the frames outside the innermost [`MAX_FRAMES`] (not a store function id:
/// stores have fewer functions).
const OUTER_FRAMES: u32 = u32::MAX;

/// The state of a running profile (in `StoreInner::profile`).
pub(crate) struct Profiler {
    /// Fuel units between samples.
    pub(crate) interval: u64,
    /// When time was last charged.
    last: Instant,
    /// Nanoseconds charged per call stack (store function ids, outermost first).
    samples: HashMap<Box<[u32]>, u64>,
    /// Scratch for the stack of a sample (no allocation when the stack was seen before).
    scratch: Vec<u32>,
}

impl Profiler {
    pub(crate) fn new(interval: u64) -> Self {
        Self {
            interval: interval.max(1),
            last: Instant::now(),
            samples: HashMap::new(),
            scratch: Vec::new(),
        }
    }

    /// Charges the time since the last sample to the stack `frames` (plus `host`, the store
    /// id of a host function being called, if any). `inlined(frame, is_top)` is the
    /// function whose inlined body the frame is executing, if any: it goes on the stack
    /// above the frame's own function, as if it had been called.
    pub(crate) fn sample(
        &mut self,
        frames: &[Frame],
        host: Option<u32>,
        inlined: impl Fn(&Frame, bool) -> Option<u32>,
    ) {
        let now = Instant::now();
        let ns = u64::try_from(now.duration_since(self.last).as_nanos()).unwrap_or(u64::MAX);
        self.last = now;
        self.scratch.clear();
        // Deep recursion: only the innermost frames, below a marker for the rest (one
        // stored stack per sampled depth would otherwise grow with the square of it).
        let first = frames.len().saturating_sub(MAX_FRAMES);
        if first > 0 {
            self.scratch.push(OUTER_FRAMES);
        }
        for (i, f) in frames.iter().enumerate().skip(first) {
            self.scratch.push(f.func);
            self.scratch.extend(inlined(f, i + 1 == frames.len()));
        }
        self.scratch.extend(host);
        if let Some(total) = self.samples.get_mut(self.scratch.as_slice()) {
            *total = total.saturating_add(ns);
        } else {
            self.samples.insert(self.scratch.as_slice().into(), ns);
        }
    }

    /// Starts the clock afresh: the time the embedder spent outside the guest is nobody's.
    pub(crate) fn restart_clock(&mut self) {
        self.last = Instant::now();
    }

    /// The profile so far, with names from `s`'s modules.
    pub(crate) fn report(&self, s: &StoreInner) -> Profile {
        let mut index: HashMap<u32, u32> = HashMap::new();
        let mut names = Vec::new();
        let mut stacks: Vec<(Box<[u32]>, Duration)> = self
            .samples
            .iter()
            .map(|(stack, &ns)| {
                let stack = stack
                    .iter()
                    .map(|&f| {
                        *index.entry(f).or_insert_with(|| {
                            names.push(function_name(s, f));
                            names.len() as u32 - 1
                        })
                    })
                    .collect();
                (stack, Duration::from_nanos(ns))
            })
            .collect();
        stacks.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Profile { names, stacks }
    }
}

/// A readable name for store function `f`: the name section's name for a wasm function
/// (`func[N]` without one), `module.name` of the import for a host function.
fn function_name(s: &StoreInner, f: u32) -> String {
    if f == OUTER_FRAMES {
        return "[outer frames]".to_owned();
    }
    match s.wasm_func_name(f) {
        Some((_, Some(name))) => name.to_owned(),
        Some((index, None)) => format!("func[{index}]"),
        None => host_name(s, f),
    }
}

/// `module.name` of the import through which some instance imports host function `f`.
fn host_name(s: &StoreInner, f: u32) -> String {
    s.instances
        .iter()
        .find_map(|inst| {
            let module = &inst.module.module;
            let imported = inst.funcs.get(..module.num_imported_functions as usize)?;
            let at = imported.iter().position(|&g| g == f)?;
            let mut imports = module
                .imports
                .iter()
                .filter(|i| matches!(i.desc, crate::decode::ImportDesc::Func(_)));
            imports.nth(at).map(|i| format!("{}.{}", i.module, i.name))
        })
        .unwrap_or_else(|| format!("host[{f}]"))
}

/// A finished profile: time per call stack of guest functions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Function names; the stacks index into them.
    names: Vec<String>,
    /// `(stack, time)`, the stack outermost first; longest time first.
    stacks: Vec<(Box<[u32]>, Duration)>,
}

/// One function's share of a [`Profile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionTime {
    pub name: String,
    /// Time with the function on top of the stack.
    pub self_time: Duration,
    /// Time with the function anywhere on the stack (counted once per stack).
    pub total_time: Duration,
}

impl Profile {
    /// All time charged.
    pub fn total(&self) -> Duration {
        self.stacks.iter().map(|(_, t)| *t).sum()
    }

    /// The stacks: names outermost first, and the time charged to each.
    pub fn stacks(&self) -> impl Iterator<Item = (Vec<&str>, Duration)> + '_ {
        self.stacks.iter().map(|(stack, t)| {
            let names = stack.iter().map(|&i| self.names[i as usize].as_str());
            (names.collect(), *t)
        })
    }

    /// Per function, self and total time, most self time first.
    pub fn functions(&self) -> Vec<FunctionTime> {
        let mut self_ns = vec![Duration::ZERO; self.names.len()];
        let mut total_ns = vec![Duration::ZERO; self.names.len()];
        let mut seen = vec![usize::MAX; self.names.len()];
        for (n, (stack, t)) in self.stacks.iter().enumerate() {
            if let Some(&top) = stack.last() {
                self_ns[top as usize] += *t;
            }
            for &f in stack.iter() {
                // Recursion: a function counts once per stack.
                if seen[f as usize] != n {
                    seen[f as usize] = n;
                    total_ns[f as usize] += *t;
                }
            }
        }
        let mut out: Vec<FunctionTime> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| FunctionTime {
                name: name.clone(),
                self_time: self_ns[i],
                total_time: total_ns[i],
            })
            .collect();
        out.sort_by(|a, b| {
            b.self_time
                .cmp(&a.self_time)
                .then_with(|| b.total_time.cmp(&a.total_time))
                .then_with(|| a.name.cmp(&b.name))
        });
        out
    }

    /// Writes the stacks in the "folded" format of flame-graph tools (inferno, speedscope,
    /// flamegraph.pl): one line per stack, `outer;…;inner MICROSECONDS`.
    pub fn write_folded(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        for (names, t) in self.stacks() {
            let us = t.as_micros();
            if us > 0 {
                // `;` separates frames and ' ' the count: keep them out of names.
                let names: Vec<String> = names.iter().map(|n| n.replace([';', ' '], "_")).collect();
                writeln!(out, "{} {us}", names.join(";"))?;
            }
        }
        Ok(())
    }
}
