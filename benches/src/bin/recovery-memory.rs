//! `recovery-memory`: the heap one packet costs in connection state
//! recovery's replay buffer (benches/RESULTS.md, "Issue 12 — cost of
//! recovery"). Counts the bytes live on the heap (a counting global
//! allocator) before and after an in-memory adapter with recovery records N
//! packets shaped like the load test's echo answers
//! (`2["echo-response",{"t":<µs>,"p":"xx…"}]`, sent to the socket's own
//! room as `socket.emit` does with recovery on), and prints bytes per
//! packet next to the packet's own size (text with its offset). Allocator
//! overhead and freed-but-kept pages are not counted (the RSS figures in
//! RESULTS.md include them).
//!
//! ```text
//! recovery-memory [N (default 65536)] [PADDING BYTES (default 32)]
//! ```
#![deny(unsafe_code)]

use oxio_server::adapter::{
    Adapter, BroadcastOptions, ConnectionStateRecovery, LocalNamespace, MemoryAdapter, Outgoing,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// Safety is the system allocator's: every call is forwarded unchanged
// (as benches/tests/no_alloc.rs does).
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(65_536);
    let padding: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio");
    rt.block_on(async move {
        let csr = ConnectionStateRecovery {
            max_packets: n,
            ..Default::default()
        };
        let adapter = MemoryAdapter::with_recovery(LocalNamespace::detached("/"), csr);
        let sid = "AAAAAAAAAAAAAAAAAAAA";
        let opts = BroadcastOptions {
            rooms: vec![sid.into()],
            ..Default::default()
        };
        let p = "x".repeat(padding);
        let packets: Vec<Outgoing> = (0..n)
            .map(|i| {
                let arg = serde_json::json!({"t": 1_700_000_000_000_000u64 + i as u64, "p": p});
                Outgoing::event("/", None, "echo-response", &(arg,)).expect("packet")
            })
            .collect();
        let before = LIVE.load(Ordering::Relaxed);
        for packet in &packets {
            adapter.broadcast(packet, &opts).expect("broadcast");
        }
        let after = LIVE.load(Ordering::Relaxed);
        let (held, bytes, _) = adapter.recovery_stats().expect("recovery on");
        let per = (after - before) as f64 / held as f64;
        println!(
            "{held} packets held, {:.0} B of packet (text with offset) each, {per:.0} B of heap each ({:.0} B besides the packet)",
            bytes as f64 / held as f64,
            per - bytes as f64 / held as f64
        );
    });
}
