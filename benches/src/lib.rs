//! Shared benchmark support: a heap-allocation counter.
//!
//! Each bench binary installs [`CountingAlloc`] as its global allocator and reads
//! [`allocations_during`] around one operation, so the allocation counts quoted in issues come
//! from the same code path the timings do.

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
