// A generic `async fn` op: its future is polled on the host thread, so the parameter
// needs no `Send`, only `'static`; and a generic op whose only entry is the blocking
// one (`#[op(async)]`).
#![deny(warnings)]

use std::rc::Rc;

use opkit::{Extension, Runtime, op};

pub trait Greeting: 'static {
    fn greet(name: &str) -> String;
}

pub struct Hello;
pub struct Ahoy;

impl Greeting for Hello {
    fn greet(name: &str) -> String {
        format!("hello, {name}")
    }
}

impl Greeting for Ahoy {
    fn greet(name: &str) -> String {
        format!("ahoy, {name}")
    }
}

/// Greets after an await; the state it reads is an `Rc`, which is not `Send`.
#[op]
pub async fn op_greet_later<G: Greeting>(#[state] times: &Rc<usize>, name: String) -> String {
    tokio::task::yield_now().await;
    G::greet(&name).repeat(**times)
}

/// Greets on the blocking pool.
#[op(async)]
pub fn op_greet_blocking<G: Greeting + Send>(name: &str) -> String {
    G::greet(name)
}

fn runtime<G: Greeting + Send>() -> Runtime {
    let decls = op_greet_later::<G>::DECLS
        .iter()
        .chain(op_greet_blocking::<G>::DECLS);
    let ext = Extension::new("greet", decls.copied()).with_state(|state| {
        state.put(Rc::new(2_usize));
    });
    Runtime::new([ext]).unwrap()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let hello = runtime::<Hello>();
        let ahoy = runtime::<Ahoy>();
        let out = hello.call_async("op_greet_later_async", br#"["bo"]"#, vec![]).await;
        assert_eq!(out.result.unwrap(), br#""hello, bohello, bo""#);
        let out = ahoy.call_async("op_greet_later_async", br#"["bo"]"#, vec![]).await;
        assert_eq!(out.result.unwrap(), br#""ahoy, boahoy, bo""#);
        let out = ahoy.call_async("op_greet_blocking_async", br#"["cy"]"#, vec![]).await;
        assert_eq!(out.result.unwrap(), br#""ahoy, cy""#);
    });
}
