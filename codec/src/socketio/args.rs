//! [`Args`]: an argument list of any length.
//!
//! The tuple rule fixes the number of arguments at compile time: `(a, b)` is
//! two arguments, anything else is one. [`Args`] wraps a list whose length
//! is only known at run time ("echo every argument back"):
//! - encoding `Args(list)` writes each element as one argument
//!   (`Args(vec![1, 2])` as event `ev` is `["ev",1,2]`);
//! - decoding into `Args<Vec<T>>` (with `alloc`) or `Args<heapless::Vec<T, N>>`
//!   takes every remaining argument, however many there are (none included).
//!
//! Only the top level spreads: an `Args` nested inside a tuple or a struct
//! is an ordinary JSON array. With serializers and deserializers other than
//! this crate's argument lists (serde_json, ...) `Args` is a plain array too.

use core::fmt;
use core::marker::PhantomData;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeTuple, Serializer};

/// The tuple length that asks this crate's argument deserializer for every
/// remaining argument (no real tuple has `usize::MAX` fields).
pub(crate) const ALL_ARGS: usize = usize::MAX;

/// A run-time-length argument list: every element is one Socket.IO
/// argument, in both directions.
///
/// Implemented for `Args<&[T]>`, `Args<[T; N]>`, `Args<heapless::Vec<T, N>>`
/// and, with `alloc`, `Args<Vec<T>>` (serialize); `Args<heapless::Vec<T, N>>`
/// (more than `N` arguments is [`InvalidLength`](crate::json::JsonError::InvalidLength))
/// and, with `alloc`, `Args<Vec<T>>` (deserialize).
///
#[cfg_attr(feature = "alloc", doc = "```")]
#[cfg_attr(not(feature = "alloc"), doc = "```ignore")]
/// use oxio_codec::socketio::{Args, Decoder, Encoder};
///
/// // Decode every argument, whatever their number...
/// let p = Decoder::default().decode(r#"2["message",1,"2",{"3":[true]}]"#).unwrap();
/// let Args(args): Args<Vec<serde_json::Value>> = p.args().unwrap();
/// assert_eq!(args.len(), 3);
///
/// // ...and send them all back.
/// let mut buf = [0u8; 64];
/// let n = Encoder::default().event(&mut buf, "/", None, "message-back", &Args(&args[..])).unwrap().len;
/// assert_eq!(&buf[..n], br#"2["message-back",1,"2",{"3":[true]}]"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Args<T>(pub T);

/// Writes `items` as a tuple: spread by the argument-list serializer, an
/// array everywhere else.
fn serialize_items<S: Serializer, T: Serialize>(
    serializer: S,
    items: &[T],
) -> Result<S::Ok, S::Error> {
    let mut tuple = serializer.serialize_tuple(items.len())?;
    for item in items {
        tuple.serialize_element(item)?;
    }
    tuple.end()
}

impl<T: Serialize> Serialize for Args<&[T]> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_items(serializer, self.0)
    }
}

impl<T: Serialize, const N: usize> Serialize for Args<[T; N]> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_items(serializer, &self.0)
    }
}

impl<T: Serialize, const N: usize> Serialize for Args<heapless::Vec<T, N>> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_items(serializer, &self.0)
    }
}

#[cfg(feature = "alloc")]
impl<T: Serialize> Serialize for Args<alloc::vec::Vec<T>> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_items(serializer, &self.0)
    }
}

/// Collects every element the sequence offers; `push` refuses an element
/// when the collection is full.
struct ArgsVisitor<C, T> {
    push: fn(&mut C, T) -> bool,
    marker: PhantomData<fn() -> (C, T)>,
}

impl<'de, C: Default, T: Deserialize<'de>> Visitor<'de> for ArgsVisitor<C, T> {
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an argument list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<C, A::Error> {
        let mut out = C::default();
        let mut count: usize = 0;
        // Each element consumes input, so the loop ends with the input.
        while let Some(item) = seq.next_element::<T>()? {
            count = count.saturating_add(1);
            if !(self.push)(&mut out, item) {
                return Err(de::Error::invalid_length(count, &self));
            }
        }
        Ok(out)
    }
}

fn deserialize_items<'de, D, C, T>(
    deserializer: D,
    push: fn(&mut C, T) -> bool,
) -> Result<C, D::Error>
where
    D: Deserializer<'de>,
    C: Default,
    T: Deserialize<'de>,
{
    deserializer.deserialize_tuple(
        ALL_ARGS,
        ArgsVisitor {
            push,
            marker: PhantomData,
        },
    )
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Args<heapless::Vec<T, N>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_items(deserializer, |v: &mut heapless::Vec<T, N>, item| {
            v.push(item).is_ok()
        })
        .map(Args)
    }
}

#[cfg(feature = "alloc")]
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Args<alloc::vec::Vec<T>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_items(deserializer, |v: &mut alloc::vec::Vec<T>, item| {
            v.push(item);
            true
        })
        .map(Args)
    }
}

#[cfg(test)]
mod tests {
    use super::Args;
    use crate::json::de::{args_from_str, DeOptions};
    use crate::json::JsonError;
    use crate::socketio::{Decoder, Encoder};

    #[test]
    fn fixed_capacity_lists_without_alloc() {
        let mut buf = [0u8; 32];
        let n = Encoder::default()
            .event(&mut buf, "/", None, "ev", &Args([1, 2, 3]))
            .unwrap()
            .len;
        assert_eq!(&buf[..n], br#"2["ev",1,2,3]"#);
        let list: &[&str] = &["a", "b"];
        let n = Encoder::default()
            .ack(&mut buf, "/x", 9, &Args(list))
            .unwrap()
            .len;
        assert_eq!(&buf[..n], br#"3/x,9["a","b"]"#);
        let n = Encoder::default()
            .event(&mut buf, "/", None, "ev", &Args::<[u8; 0]>([]))
            .unwrap()
            .len;
        assert_eq!(&buf[..n], br#"2["ev"]"#);

        let p = Decoder::default().decode(r#"2["ev","a","b"]"#).unwrap();
        let Args(got): Args<heapless::Vec<&str, 4>> = p.args().unwrap();
        assert_eq!(got, ["a", "b"]);
        let opts = DeOptions::default();
        let full = args_from_str::<Args<heapless::Vec<u8, 2>>>("[1,2,3]", 0, &opts, None);
        assert_eq!(full.unwrap_err(), JsonError::InvalidLength(3));
        let fits: Args<heapless::Vec<u8, 2>> = args_from_str("[1,2]", 0, &opts, None).unwrap();
        assert_eq!(fits.0, [1, 2]);
        let none: Args<heapless::Vec<u8, 2>> = args_from_str("[]", 0, &opts, None).unwrap();
        assert!(none.0.is_empty());
    }
}

#[cfg(all(test, feature = "alloc"))]
mod alloc_tests {
    extern crate std;

    use super::Args;
    use crate::json::de::{args_from_str, DeOptions};
    use crate::json::JsonError;
    use crate::socketio::{Binary, BinaryBuf, Decoder, Encoder, Error};
    use serde_json::{json, Value};
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn event<T: serde::Serialize + ?Sized>(ack: Option<u64>, args: &T) -> String {
        Encoder::default()
            .event_to_owned("/", ack, "ev", args)
            .unwrap()
            .text
    }

    #[test]
    fn encodes_each_element_as_one_argument() {
        let cases: &[(Vec<Value>, &str)] = &[
            (vec![], r#"2["ev"]"#),
            (vec![json!(1)], r#"2["ev",1]"#),
            (
                vec![json!(1), json!("2"), json!({"3": [true]})],
                r#"2["ev",1,"2",{"3":[true]}]"#,
            ),
            (vec![json!([1, 2]), json!(null)], r#"2["ev",[1,2],null]"#),
        ];
        for (list, want) in cases {
            assert_eq!(event(None, &Args(list.clone())), *want, "{list:?}");
            assert_eq!(event(None, &Args(&list[..])), *want, "{list:?}");
        }
        assert_eq!(event(Some(7), &Args([1, 2, 3])), r#"27["ev",1,2,3]"#);
        let hv: heapless::Vec<u8, 4> = heapless::Vec::from_slice(&[4, 5]).unwrap();
        assert_eq!(event(None, &Args(hv)), r#"2["ev",4,5]"#);
        let ack = Encoder::default()
            .ack_to_owned("/x", 3, &Args(vec!["a", "b"]))
            .unwrap();
        assert_eq!(ack.text, r#"3/x,3["a","b"]"#);
        let ack = Encoder::default()
            .ack_to_owned("/", 3, &Args(Vec::<u8>::new()))
            .unwrap();
        assert_eq!(ack.text, "33[]");
    }

    #[test]
    fn only_the_top_level_spreads() {
        assert_eq!(event(None, &(Args(vec![1, 2]), 3)), r#"2["ev",[1,2],3]"#);
        assert_eq!(serde_json::to_string(&Args(vec![1, 2])).unwrap(), "[1,2]");
        let back: Args<Vec<u8>> = serde_json::from_str("[1,2]").unwrap();
        assert_eq!(back, Args(vec![1, 2]));
    }

    #[test]
    fn binary_elements_become_attachments() {
        let parts = [Binary(&[1, 2]), Binary(&[3])];
        let p = Encoder::default()
            .event_to_owned("/", None, "ev", &Args(&parts[..]))
            .unwrap();
        assert_eq!(
            p.text,
            r#"52-["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(p.attachments, [vec![1, 2], vec![3]]);
        let decoded = Decoder::default().decode(&p.text).unwrap();
        let decoded = decoded.with_attachments(&p.attachments);
        let Args(back): Args<Vec<BinaryBuf>> = decoded.args().unwrap();
        assert_eq!(back, [BinaryBuf(vec![1, 2]), BinaryBuf(vec![3])]);
    }

    #[test]
    fn decodes_every_remaining_argument() {
        let opts = DeOptions::default();
        let cases: &[(&str, usize, Vec<Value>)] = &[
            (r#"["ev"]"#, 1, vec![]),
            (r#"["ev",1]"#, 1, vec![json!(1)]),
            (
                r#"["ev",1,"2",{"3":[true]}]"#,
                1,
                vec![json!(1), json!("2"), json!({"3": [true]})],
            ),
            ("[]", 0, vec![]),
            (
                r#"[[],{},null]"#,
                0,
                vec![json!([]), json!({}), json!(null)],
            ),
            (" [ \"ev\" , 1 , 2 ] ", 1, vec![json!(1), json!(2)]),
        ];
        for (array, skip, want) in cases {
            let Args(got): Args<Vec<Value>> = args_from_str(array, *skip, &opts, None).unwrap();
            assert_eq!(&got, want, "{array}");
        }
        let Args(nums): Args<Vec<u8>> = args_from_str("[1,2,3]", 0, &opts, None).unwrap();
        assert_eq!(nums, [1, 2, 3]);
    }

    #[test]
    fn decode_errors_are_reported() {
        let opts = DeOptions::default();
        let cases: &[(&str, JsonError)] = &[
            (r#"["ev",1,"x"]"#, JsonError::InvalidType),
            (r#"["ev",1,]"#, JsonError::UnexpectedByte { offset: 8 }),
            (r#"["ev",1"#, JsonError::UnexpectedEnd),
            (r#"["ev",256]"#, JsonError::InvalidNumber),
        ];
        for (array, want) in cases {
            let got = args_from_str::<Args<Vec<u8>>>(array, 1, &opts, None).unwrap_err();
            assert_eq!(&got, want, "{array}");
        }
    }

    #[test]
    fn round_trips_through_packets() {
        let lists: Vec<Vec<Value>> = vec![
            vec![],
            vec![json!("solo")],
            vec![
                json!(1.5),
                json!(-3),
                json!("é\n😀"),
                json!({"a": {"b": [1, null]}}),
            ],
        ];
        for list in lists {
            let text = event(Some(42), &Args(&list[..]));
            let p = Decoder::default().decode(&text).unwrap();
            assert_eq!(p.ack_id(), Some(42));
            let Args(back): Args<Vec<Value>> = p.args().unwrap();
            assert_eq!(back, list, "{text}");
            let ack = Encoder::default()
                .ack_to_owned("/", 42, &Args(back))
                .unwrap();
            let p = Decoder::default().decode(&ack.text).unwrap();
            let Args(again): Args<Vec<Value>> = p.args().unwrap();
            assert_eq!(again, list, "{}", ack.text);
        }
        let p = Decoder::default().decode("2").unwrap();
        assert_eq!(
            p.args::<Args<Vec<Value>>>().unwrap_err(),
            Error::InvalidPayload
        );
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            proptest::collection::vec(any::<i32>(), 0..4).prop_map(Value::from),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn any_list_round_trips(list in proptest::collection::vec(value(), 0..8), ack in proptest::option::of(0u64..1000)) {
            let text = event(ack, &Args(&list[..]));
            let p = Decoder::default().decode(&text).unwrap();
            proptest::prop_assert_eq!(p.ack_id(), ack);
            let Args(back): Args<Vec<Value>> = p.args().unwrap();
            proptest::prop_assert_eq!(back, list);
        }
    }
}
