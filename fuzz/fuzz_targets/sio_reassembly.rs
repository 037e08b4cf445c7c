//! The binary reassembly state machine (`Reassembler`), driven by an
//! arbitrary sequence of text frames (well-formed binary headers, plain
//! events, or any text), binary frames, clock ticks, timeout checks and
//! resets, and compared step by step with a model of the protocol rules.
//!
//! Limits are small (3 attachments, 1..=256 attachment bytes, 0..=255 ms
//! deadline) and the store is either a `Vec` or a `heapless::Vec` of 2, so
//! every edge is reachable.
//!
//! Invariants: a packet completes exactly after its N-th attachment, never
//! with more than `max_attachments` attachments or `max_attachment_bytes`
//! bytes; a text frame while waiting, a binary frame nobody announced, a
//! late attachment and too many bytes are the typed errors and drop the
//! waiting packet; `poll_timeout` is the header's time plus the timeout;
//! completed packets decode and resolve their placeholders to the frames.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oxio_codec::socketio::{AttachmentStore, Decoder, Error, Reassembler, Version};
use oxio_codec::{Instant, Limits};
use oxio_fuzz::Tree;

#[derive(Debug, Arbitrary)]
enum Op {
    /// A well-formed BINARY_EVENT / BINARY_ACK header with `count % 5`
    /// attachments (0 is refused by the decoder).
    Header {
        ack: bool,
        count: u8,
        namespace: bool,
    },
    /// A plain event: complete at once.
    Plain,
    /// Any text.
    Text(String),
    /// A binary frame of `len` bytes.
    Binary { len: u8, fill: u8 },
    /// The clock moves on.
    Tick(u8),
    /// The driver's timer fires.
    HandleTimeout,
    /// The driver drops the waiting packet.
    Reset,
}

#[derive(Debug, Arbitrary)]
struct Input {
    v4: bool,
    heapless_store: bool,
    max_attachment_bytes: u8,
    timeout_ms: u8,
    ops: Vec<Op>,
}

/// The model's view of a waiting packet.
#[derive(Debug)]
struct Waiting {
    expected: usize,
    frames: Vec<Vec<u8>>,
    bytes: usize,
    deadline: Instant,
    text: String,
    /// Built by `header`: argument i is placeholder i.
    generated: bool,
}

fuzz_target!(|input: Input| {
    let limits = Limits {
        max_attachments: 3,
        max_attachment_bytes: usize::from(input.max_attachment_bytes) + 1,
        attachment_timeout_ms: u64::from(input.timeout_ms),
        ..Limits::DEFAULT
    };
    let version = if input.v4 { Version::V4 } else { Version::V5 };
    let decoder = Decoder::new(version, limits);
    if input.heapless_store {
        run::<heapless::Vec<Vec<u8>, 2>>(&input.ops, decoder);
    } else {
        run::<Vec<Vec<u8>>>(&input.ops, decoder);
    }
});

fn header(ack: bool, count: u8, namespace: bool) -> String {
    let count = usize::from(count % 5);
    let mut s = String::new();
    s.push(if ack { '6' } else { '5' });
    s.push_str(&format!("{count}-"));
    if namespace {
        s.push_str("/ns,");
    }
    if ack {
        s.push_str("7[");
    } else {
        s.push_str("[\"ev\"");
    }
    for i in 0..count {
        if i > 0 || !ack {
            s.push(',');
        }
        s.push_str(&format!("{{\"_placeholder\":true,\"num\":{i}}}"));
    }
    s.push(']');
    s
}

fn run<S>(ops: &[Op], decoder: Decoder)
where
    S: AttachmentStore<Vec<u8>> + oxio_codec::json::de::Attachments + std::fmt::Debug,
{
    let limits = decoder.limits;
    let capacity = S::default().capacity_hint();
    let mut r: Reassembler<String, Vec<u8>, S> = Reassembler::new(decoder);
    let mut model: Option<Waiting> = None;
    let mut now = Instant::from_millis(0);

    for op in ops {
        match op {
            Op::Header { .. } | Op::Plain | Op::Text(_) => {
                let text = match op {
                    Op::Header {
                        ack,
                        count,
                        namespace,
                    } => header(*ack, *count, *namespace),
                    Op::Plain => "2[\"ev\",1]".to_owned(),
                    Op::Text(t) => t.clone(),
                    _ => unreachable!(),
                };
                let got = r.on_text(text.clone(), now);
                if model.take().is_some() {
                    assert_eq!(got.map(|_| ()), Err(Error::UnexpectedText));
                } else {
                    match decoder.decode(&text) {
                        Err(e) => assert_eq!(got.map(|_| ()), Err(e)),
                        Ok(p) if p.attachment_count() == 0 => {
                            let done = got.expect("a plain packet completes").expect("at once");
                            assert_eq!(done.text(), &text);
                            assert!(done.attachments().as_items().is_empty());
                            assert_eq!(done.packet().expect("decodes"), p);
                        }
                        Ok(p) => {
                            let n = p.attachment_count();
                            assert!(n <= limits.max_attachments);
                            if n > capacity {
                                assert_eq!(
                                    got.map(|_| ()),
                                    Err(Error::TooManyAttachments {
                                        count: n,
                                        max: capacity
                                    })
                                );
                            } else {
                                assert!(got.expect("a binary header is held").is_none());
                                model = Some(Waiting {
                                    expected: n,
                                    frames: Vec::new(),
                                    bytes: 0,
                                    deadline: now + limits.attachment_timeout_ms,
                                    text,
                                    generated: matches!(op, Op::Header { .. }),
                                });
                            }
                        }
                    }
                }
            }
            Op::Binary { len, fill } => {
                let frame = vec![*fill; usize::from(*len)];
                let got = r.on_binary(frame.clone(), now);
                match model.as_mut() {
                    None => assert_eq!(got.map(|_| ()), Err(Error::UnexpectedBinary)),
                    Some(w) if now >= w.deadline => {
                        assert_eq!(got.map(|_| ()), Err(Error::AttachmentTimeout));
                        model = None;
                    }
                    Some(w) if w.bytes + frame.len() > limits.max_attachment_bytes => {
                        assert_eq!(got.map(|_| ()), Err(Error::AttachmentsTooLarge));
                        model = None;
                    }
                    Some(w) => {
                        w.bytes += frame.len();
                        w.frames.push(frame);
                        if w.frames.len() < w.expected {
                            assert!(got.expect("attachment accepted").is_none());
                        } else {
                            let w = model.take().expect("waiting");
                            let done = got
                                .expect("last attachment accepted")
                                .expect("packet complete after its last attachment");
                            completed(&done, &w, &limits);
                        }
                    }
                }
            }
            Op::Tick(ms) => now = now + u64::from(*ms),
            Op::HandleTimeout => {
                let got = r.handle_timeout(now);
                match &model {
                    Some(w) if now >= w.deadline => {
                        assert_eq!(got, Err(Error::AttachmentTimeout));
                        model = None;
                    }
                    _ => assert_eq!(got, Ok(())),
                }
            }
            Op::Reset => {
                r.reset();
                model = None;
            }
        }
        assert_eq!(r.is_pending(), model.is_some(), "pending state");
        assert_eq!(r.poll_timeout(), model.as_ref().map(|w| w.deadline));
    }
}

fn completed<S>(done: &oxio_codec::socketio::Complete<String, S>, w: &Waiting, limits: &Limits)
where
    S: AttachmentStore<Vec<u8>> + oxio_codec::json::de::Attachments,
{
    assert_eq!(done.text(), &w.text);
    let items = done.attachments().as_items();
    assert_eq!(items, &w.frames[..], "attachments in arrival order");
    assert!(items.len() <= limits.max_attachments);
    assert!(items.iter().map(Vec::len).sum::<usize>() <= limits.max_attachment_bytes);
    let p = done.packet().expect("a completed packet decodes");
    assert_eq!(p.attachment_count(), w.expected);
    let _ = p.args::<(Option<Tree>, Option<Tree>)>();
    if !w.generated {
        return;
    }
    // Placeholder i resolves to frame i.
    let got: Vec<Tree> = p
        .raw_args()
        .map(|raw| {
            oxio_codec::json::de::from_str_with(
                raw,
                &oxio_codec::json::de::DeOptions {
                    max_depth: limits.max_depth,
                    attachments: Some(done.attachments()),
                },
                None,
            )
            .expect("a placeholder resolves")
        })
        .collect();
    let want: Vec<Tree> = w.frames.iter().cloned().map(Tree::Bytes).collect();
    assert_eq!(got, want);
    let first: Option<Tree> = p.args().expect("args resolve");
    assert_eq!(first, want.first().cloned());
}
