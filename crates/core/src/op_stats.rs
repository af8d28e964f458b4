//! Dispatch counts, for choosing superinstructions (cargo feature `op-stats`; see
//! `scripts/op-stats.sh`).
//!
//! The fusions in `translate.rs` are chosen from the instructions and adjacent pairs CPython
//! actually executes. With the feature on, the interpreter uses the portable dispatch loop
//! (`build.rs`) and counts every op it runs by address, and how often the op at the next
//! address ran right after it (a *pair*: one dispatch that a fusion of the two would
//! save). When the store is dropped, if `WASMI_PY_OP_STATS` names a file, a report goes
//! there: the total, then the counts per instruction kind and per pair of kinds, largest
//! first. Counting costs a hash-map update per dispatch (CPython runs ~10x slower), so the
//! feature is for measuring dispatches, never times.

use std::collections::HashMap;
use std::io::Write;

use crate::exec::Op;

/// Counts per op address.
#[derive(Default)]
pub(crate) struct OpStats {
    /// Times each op ran.
    runs: HashMap<usize, u64>,
    /// Times the op at the next address ran right after each op.
    then_next: HashMap<usize, u64>,
    /// The op that ran last.
    last: usize,
}

impl OpStats {
    /// Counts a dispatch of the op at `ip`.
    #[inline]
    pub(crate) fn record(&mut self, ip: *const Op) {
        let at = ip as usize;
        *self.runs.entry(at).or_default() += 1;
        if at == self.last.wrapping_add(std::mem::size_of::<Op>()) {
            *self.then_next.entry(self.last).or_default() += 1;
        }
        self.last = at;
    }

    /// Writes the report to `out` (see the module documentation).
    ///
    /// # Safety
    /// Every op recorded is still alive: it belongs to code the store keeps (modules are
    /// never dropped before their store).
    pub(crate) unsafe fn write_report(&self, out: &mut impl Write) -> std::io::Result<()> {
        // SAFETY: by this function's contract.
        let kind = |at: usize| unsafe { &*(at as *const Op) }.instr.kind_name();
        let total: u64 = self.runs.values().sum();
        let mut kinds: HashMap<&str, u64> = HashMap::new();
        for (&at, &n) in &self.runs {
            *kinds.entry(kind(at)).or_default() += n;
        }
        let mut pairs: HashMap<(&str, &str), u64> = HashMap::new();
        for (&at, &n) in &self.then_next {
            let next = at + std::mem::size_of::<Op>();
            *pairs.entry((kind(at), kind(next))).or_default() += n;
        }
        writeln!(out, "dispatches: {total}")?;
        writeln!(out, "\nper instruction (% of dispatches):")?;
        for (name, n) in largest_first(kinds) {
            writeln!(out, "{:7.3}%  {n:>12}  {name}", percent(n, total))?;
        }
        writeln!(out, "\nadjacent pairs, the second right after the first:")?;
        for ((a, b), n) in largest_first(pairs).into_iter().take(200) {
            writeln!(out, "{:7.3}%  {n:>12}  {a} -> {b}", percent(n, total))?;
        }
        Ok(())
    }
}

fn largest_first<K: Ord>(map: HashMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn percent(n: u64, total: u64) -> f64 {
    n as f64 * 100.0 / total.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instr::Instr;

    #[test]
    fn counts_runs_and_pairs_by_kind() {
        let code = [
            Op::new(Instr::Copy { dst: 0, src: 1 }),
            Op::new(Instr::Jump { offset: -1 }),
            Op::new(Instr::Return),
        ];
        let mut stats = OpStats::default();
        // Copy, Jump (a pair), Copy (a jump back: no pair), Jump (a pair), Return (not
        // right after the Jump: it never is here).
        for i in [0, 1, 0, 1] {
            stats.record(&code[i]);
        }
        let mut out = Vec::new();
        // SAFETY: `code` outlives the report.
        unsafe { stats.write_report(&mut out) }.unwrap();
        let report = String::from_utf8(out).unwrap();
        assert!(report.starts_with("dispatches: 4\n"), "{report}");
        assert!(
            report.contains(" 50.000%             2  Copy\n"),
            "{report}"
        );
        assert!(
            report.contains(" 50.000%             2  Copy -> Jump\n"),
            "{report}"
        );
        assert!(!report.contains("Jump -> Copy"), "{report}");
    }
}
