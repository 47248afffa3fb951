//! Keeps freed heap memory in the process instead of handing it back to the kernel, on glibc.
//!
//! glibc's malloc serves blocks over its mmap threshold (128 KiB, raised adaptively) with fresh `mmap`s and unmaps
//! them on free, and trims the top of the heap once more than 128 KiB of it is free. The window builds and drops
//! meshes of a few hundred KiB every frame, so each frame faulted in fresh zeroed pages: page faults were about a
//! third of tessellation (`cargo bench --bench frame_time`, the README's *Frame time*). With both thresholds raised,
//! freed blocks are reused from the heap.
//!
//! Only speed and resident memory change: runs are the same with or without it (`eval` JSON byte-identical). Other
//! C libraries and platforms keep their allocator's own behaviour (the call does nothing there).

/// Blocks up to this size come from the heap, not their own `mmap`: above a frame's mesh buffers (about 1 MiB at
/// full scale), below the run-long vectors of decision records. Those stay mapped, so glibc grows them with `mremap`,
/// without copying: with 32 MiB here a day's Soldier records were copied into fresh pages as they grew, and the two
/// decisions of the day that grew them took 7 and 14 ms (`cargo bench --bench hirl_decision`, max).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD_BYTES: libc::c_int = 4 << 20;

/// Free memory at the top of the heap is handed back only past this much: far above what one frame frees.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD_BYTES: libc::c_int = 64 << 20;

/// Sets the thresholds. Call it once, first thing in `main` and before any other thread starts; every binary that
/// times the product (the CLI and window, and the benches) does, so the figures are the product's.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's tuning parameters; it is called before other threads exist. A refused
    // value (mallopt returns 0) leaves glibc's default, which is correct, only slower.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES);
    }
}
