// Ops made by `macro_rules!`: `$t:ty` fragments arrive as invisible groups, and are
// sorted into kinds as if written out. Also a `Cow<'_, str>` parameter.
#![deny(warnings)]

use std::borrow::Cow;

#[derive(Clone, Default)]
pub struct Counter(u32);

macro_rules! counting_op {
    ($name:ident, $text:ty, $state:ty, $bytes:ty) => {
        #[opkit::op]
        pub fn $name(#[state] counter: &$state, text: $text, #[buffer] data: $bytes) -> usize {
            counter.0 as usize + text.len() + data.len()
        }
    };
}

counting_op!(op_measure, &str, Counter, &[u8]);

macro_rules! whole_state_op {
    ($name:ident, $state:ty) => {
        #[opkit::op(sync)]
        pub fn $name(#[state] counter: $state) -> u32 {
            counter.0 += 1;
            counter.0
        }
    };
}

whole_state_op!(op_bump, &mut Counter);

#[opkit::op]
pub fn op_shout(text: Cow<'_, str>) -> String {
    text.to_uppercase()
}

opkit::extension!(made, ops = [op_measure, op_bump, op_shout], state = |state| {
    state.put(Counter(1));
});

fn main() {
    let rt = opkit::Runtime::new([made()]).unwrap();
    assert_eq!(rt.call_sync("op_bump_sync", b"[]", &mut []).unwrap(), b"2");
    let mut bufs = vec![vec![0; 3]];
    let measured = rt.call_sync("op_measure_sync", br#"["four"]"#, &mut bufs).unwrap();
    assert_eq!(measured, b"9");
    let shouted = rt.call_sync("op_shout_sync", br#"["hey"]"#, &mut []).unwrap();
    assert_eq!(shouted, br#""HEY""#);
}
