//! Settings and helpers shared by the bench files (`mod common;`).
#![allow(dead_code)]

use criterion::Criterion;
use futures_util::Stream;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Modest times so the whole suite runs in a few minutes on 2 cores:
/// 0.5 s warm-up and 2 s of measurement, 50 samples per benchmark.
/// Override per run with criterion's flags, e.g.
/// `cargo bench -p oxio-benches -- --measurement-time 5`.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

/// Runs engineioxide's polling decoder stream to its end, synchronously:
/// its body (`http_body_util::Full`) is always ready, so no poll returns
/// `Pending` and no runtime is needed. Returns (packets, data bytes) so the
/// work cannot be optimised away.
pub fn drain_eio_stream<S>(stream: S) -> (usize, usize)
where
    S: Stream<Item = Result<engineioxide_core::Packet, engineioxide_core::PacketParseError>>,
{
    use engineioxide_core::Packet;
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    let (mut packets, mut bytes) = (0, 0);
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(Ok(p))) => {
                packets += 1;
                bytes += match &p {
                    Packet::Message(s) => s.len(),
                    Packet::Binary(b) | Packet::BinaryV3(b) => b.len(),
                    _ => 0,
                };
            }
            Poll::Ready(Some(Err(e))) => panic!("engineioxide payload error: {e}"),
            Poll::Ready(None) => return (packets, bytes),
            Poll::Pending => panic!("a Full body never pends"),
        }
    }
}
