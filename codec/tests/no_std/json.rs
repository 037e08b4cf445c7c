//! no_std cases for the `json` module.
#![allow(unused_imports)]

use oxio_codec::*;

cases! {
    fn limits_have_documented_defaults_json() {
        let l = Limits::default();
        assert_eq!(l.max_attachments, 10);
        assert_eq!(l.max_depth, 128);
    }
}
