//! Shared benchmark support: a heap-allocation counter.
//!
//! Each bench binary installs [`CountingAlloc`] as its global allocator and reads
//! [`allocations_during`] around one operation, so the allocation counts quoted in issues come
//! from the same code path the timings do.

#[cfg(libsodium)]
pub mod sodium;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting every allocation and reallocation.
pub struct CountingAlloc;

// SAFETY: forwards every call unchanged to `System`, which upholds GlobalAlloc's contract;
// the counters are plain atomics with no effect on the memory handed out.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout the caller gave us.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap allocations (count, bytes) made while `f` ran on this process.
///
/// ```
/// let ((), (count, _bytes)) = metaless_benches::allocations_during(|| ());
/// assert_eq!(count, 0);
/// ```
pub fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, (usize, usize)) {
    let count = ALLOCATIONS.load(Ordering::SeqCst);
    let bytes = BYTES.load(Ordering::SeqCst);
    let out = f();
    let count = ALLOCATIONS.load(Ordering::SeqCst) - count;
    let bytes = BYTES.load(Ordering::SeqCst) - bytes;
    (out, (count, bytes))
}

/// The median (ns) criterion recorded for `group/bench` in this run, read back from its
/// `estimates.json`, so a bench can print its ratio to the primitives measured in the same run.
///
/// Looks where criterion may have written it — `$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`,
/// the `criterion` folder beside the bench executable's profile directory, and
/// `./target/criterion` (criterion's choice when the binary runs outside cargo) — and takes the
/// newest file, so a stale copy from an earlier run in another folder is never read.
///
/// ```
/// assert_eq!(metaless_benches::median_ns("no-such-group", "no-such-bench"), None);
/// ```
pub fn median_ns(group: &str, bench: &str) -> Option<f64> {
    let mut roots: Vec<std::path::PathBuf> = Vec::new();
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        roots.push(home.into());
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        roots.push(std::path::PathBuf::from(dir).join("criterion"));
    }
    // target/release/deps/<bench> → target/criterion
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
    {
        roots.push(dir);
    }
    roots.push(std::path::PathBuf::from("target").join("criterion"));
    newest_median_ns(&roots, group, bench)
}

/// The median in the most recently written `group/bench` estimates under any of `roots`.
fn newest_median_ns(roots: &[std::path::PathBuf], group: &str, bench: &str) -> Option<f64> {
    let newest = roots
        .iter()
        .map(|root| {
            root.join(group)
                .join(bench)
                .join("new")
                .join("estimates.json")
        })
        .filter_map(|path| Some((std::fs::metadata(&path).ok()?.modified().ok()?, path)))
        .max_by_key(|(modified, _)| *modified)?
        .1;
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(newest).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// Prints, for each `(operation, [(primitive, times)])` row, the operation's median in
/// `group` beside the same-run sum of its primitives (medians from `baseline`) and the ratio.
pub fn print_ratio_rows(group: &str, baseline: &str, rows: &[(&str, &[(&str, f64)])]) {
    for (op, parts) in rows {
        let total = parts
            .iter()
            .map(|(name, times)| median_ns(baseline, name).map(|ns| ns * times))
            .sum::<Option<f64>>();
        match (median_ns(group, op), total) {
            (Some(ours), Some(total)) => println!(
                "{op:>18}: {:9.3} µs   primitives {:9.3} µs   ratio {:.3}",
                ours / 1000.0,
                total / 1000.0,
                ours / total
            ),
            _ => println!("{op:>18}: (no estimates found; run the whole bench)"),
        }
    }
}

/// The outcome of [`compare`]: medians of both sides and the spread of the ratio over blocks.
#[derive(Debug, Clone, Copy)]
pub struct Comparison {
    /// Median time of one run of the operation under test, ns (over every round of every block).
    pub ours_ns: f64,
    /// Median time of one run of the baseline, ns.
    pub baseline_ns: f64,
    /// `ours_ns / baseline_ns`.
    pub ratio: f64,
    /// The smallest and largest per-block ratio of medians: how much the load moved the result.
    pub ratio_range: (f64, f64),
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:9.2} µs   baseline {:9.2} µs   ratio {:.3} (blocks {:.3}–{:.3})",
            self.ours_ns / 1000.0,
            self.baseline_ns / 1000.0,
            self.ratio,
            self.ratio_range.0,
            self.ratio_range.1
        )
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Times `ours` and `baseline` alternately, one call each per round, `rounds` rounds per block,
/// `blocks` blocks, so that whatever else loads the machine hits both sides alike; the ratio of
/// medians is reported with its per-block range as the spread.
///
/// ```
/// let c = metaless_benches::compare(2, 5, || { std::hint::black_box(1 + 1); }, || {});
/// assert!(c.ours_ns >= 0.0 && c.ratio_range.0 <= c.ratio_range.1);
/// ```
pub fn compare(
    blocks: usize,
    rounds: usize,
    mut ours: impl FnMut(),
    mut baseline: impl FnMut(),
) -> Comparison {
    let mut all_ours = Vec::with_capacity(blocks * rounds);
    let mut all_theirs = Vec::with_capacity(blocks * rounds);
    let mut range = (f64::INFINITY, f64::NEG_INFINITY);
    for _ in 0..blocks.max(1) {
        let mut block_ours = Vec::with_capacity(rounds);
        let mut block_theirs = Vec::with_capacity(rounds);
        for _ in 0..rounds.max(1) {
            let start = std::time::Instant::now();
            ours();
            block_ours.push(start.elapsed().as_nanos() as f64);
            let start = std::time::Instant::now();
            baseline();
            block_theirs.push(start.elapsed().as_nanos() as f64);
        }
        all_ours.extend_from_slice(&block_ours);
        all_theirs.extend_from_slice(&block_theirs);
        let ratio = median(&mut block_ours) / median(&mut block_theirs).max(1.0);
        range = (range.0.min(ratio), range.1.max(ratio));
    }
    let ours_ns = median(&mut all_ours);
    let baseline_ns = median(&mut all_theirs);
    Comparison {
        ours_ns,
        baseline_ns,
        ratio: ours_ns / baseline_ns.max(1.0),
        ratio_range: range,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn write_estimate(root: &std::path::Path, median: f64) {
        let dir = root.join("g").join("b").join("new");
        std::fs::create_dir_all(&dir).unwrap();
        let json = format!(r#"{{"median":{{"point_estimate":{median}}}}}"#);
        std::fs::write(dir.join("estimates.json"), json).unwrap();
    }

    /// An older run's file in another folder loses to this run's, whichever folder is listed first.
    #[test]
    fn the_newest_estimates_are_read() {
        let (old, new) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_estimate(old.path(), 1.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_estimate(new.path(), 2.0);
        let roots = [old.path().to_path_buf(), new.path().to_path_buf()];
        assert_eq!(newest_median_ns(&roots, "g", "b"), Some(2.0));
        let reversed = [new.path().to_path_buf(), old.path().to_path_buf()];
        assert_eq!(newest_median_ns(&reversed, "g", "b"), Some(2.0));
        let missing = [old.path().join("nowhere")];
        assert_eq!(newest_median_ns(&missing, "g", "b"), None);
    }
}
