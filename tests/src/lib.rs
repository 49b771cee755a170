//! Ops that the integration tests call: one of each parameter and return kind.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Barrier, Mutex};

use opkit::{ErrorClass, NewResource, OpError, OpState, Resource, extension, op};
use serde::{Deserialize, Serialize};

/// Adds two numbers.
#[op]
pub fn op_add(a: i64, b: i64) -> i64 {
    a + b
}

/// Divides `a` by `b`, refusing zero.
#[op]
pub fn op_div(a: i64, b: i64) -> Result<i64, OpError> {
    if b == 0 {
        return Err(OpError::new(ErrorClass::InvalidData, "division by zero"));
    }
    Ok(a / b)
}

/// Greets someone; the punctuation may be left out.
#[op]
pub fn op_greet(name: &str, punct: Option<String>) -> String {
    format!("hello, {name}{}", punct.as_deref().unwrap_or("."))
}

/// Sums a list of numbers.
#[op]
pub fn op_sum(values: &[f64]) -> f64 {
    values.iter().sum()
}

/// Counts the components of a path.
#[op]
pub fn op_path_depth(path: &Path) -> usize {
    path.components().count()
}

/// A structured argument and result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

/// Moves a point.
#[op]
pub fn op_translate(point: Point, dx: i32, dy: Option<i32>) -> Point {
    Point {
        x: point.x + dx,
        y: point.y + dy.unwrap_or(0),
    }
}

/// Does nothing.
#[op]
pub fn op_noop() {}

/// Panics with the message it is given.
#[op]
pub fn op_panic(message: String) -> u32 {
    panic!("{message}")
}

/// Fails with an io error.
#[op]
pub fn op_io_fail(path: &Path) -> std::io::Result<u64> {
    std::fs::metadata(path).map(|m| m.len())
}

/// A counter kept in `OpState`.
#[derive(Debug, Default)]
pub struct Counter(pub u64);

/// Increments the counter in `OpState`.
#[op(sync)]
pub fn op_count(#[state] counter: &mut Counter) -> u64 {
    counter.0 += 1;
    counter.0
}

/// Reads how many resources are open, from `OpState` itself.
#[op(sync)]
pub fn op_open_count(state: &OpState) -> usize {
    state.resource_table.len()
}

/// Puts a label into `OpState`.
#[op(sync)]
pub fn op_set_label(state: &mut OpState, label: String) {
    state.put(Label(label));
}

/// A label for `#[state] &T` in both entries.
#[derive(Debug, Clone, Default)]
pub struct Label(pub String);

/// Reads the label from `OpState`: borrowed in the sync entry, cloned for the async one.
#[op]
pub fn op_label(#[state] label: &Label, suffix: &str) -> String {
    format!("{}{suffix}", label.0)
}

/// What the rendezvous test shares with its ops.
#[derive(Clone)]
pub struct Rendezvous {
    pub barrier: Arc<Barrier>,
    pub release: Arc<Mutex<Receiver<u32>>>,
}

/// Meets another call at the barrier, then waits for the host to release it. Only two
/// calls running at once on two threads can pass the barrier.
#[op(async)]
pub fn op_rendezvous(#[state] meet: &Rendezvous) -> Result<u32, OpError> {
    meet.barrier.wait();
    let release = meet
        .release
        .lock()
        .map_err(|_| OpError::generic("poisoned"))?;
    release
        .recv()
        .map_err(|_| OpError::generic("the host went away"))
}

/// A text held by rid.
#[derive(Debug, Default)]
pub struct Note {
    pub text: Mutex<String>,
    pub changed: tokio::sync::Notify,
}

impl Resource for Note {}

/// Creates a note and returns its rid.
#[op]
pub fn op_note_new(text: String) -> NewResource<Note> {
    NewResource(Note {
        text: Mutex::new(text),
        changed: tokio::sync::Notify::new(),
    })
}

/// Creates a note, refusing an empty text.
#[op]
pub fn op_note_try_new(text: String) -> Result<NewResource<Note>, OpError> {
    if text.is_empty() {
        return Err(OpError::type_error("empty note"));
    }
    Ok(NewResource(Note {
        text: Mutex::new(text),
        changed: tokio::sync::Notify::new(),
    }))
}

/// Reads a note.
#[op]
pub fn op_note_read(#[resource] note: &Note) -> Result<String, OpError> {
    let text = note.text.lock().map_err(|_| OpError::generic("poisoned"))?;
    Ok(text.clone())
}

/// Appends to a note and returns the new length.
#[op]
pub fn op_note_append(#[resource] note: Arc<Note>, more: &str) -> Result<usize, OpError> {
    let mut text = note.text.lock().map_err(|_| OpError::generic("poisoned"))?;
    text.push_str(more);
    note.changed.notify_waiters();
    Ok(text.len())
}

/// Waits until the note changes; pending until then, or until the rid is closed.
#[op]
pub async fn op_note_wait(#[resource] note: &Note) -> String {
    note.changed.notified().await;
    note.text.lock().map(|t| t.clone()).unwrap_or_default()
}

/// Fills the caller's buffer with `byte` and returns how many bytes it wrote.
#[op]
pub fn op_fill(#[buffer] out: &mut [u8], byte: u8) -> usize {
    out.fill(byte);
    out.len()
}

/// Fills the buffer, then panics: the buffer still goes back to the caller, from either
/// entry.
#[op]
pub fn op_fill_then_panic(#[buffer] out: &mut [u8]) {
    out.fill(1);
    panic!("after filling")
}

/// Adds up the bytes of a read-only buffer.
#[op]
pub fn op_checksum(#[buffer] data: &[u8]) -> u64 {
    data.iter().map(|&b| u64::from(b)).sum()
}

/// Joins two buffers into a string: one lent, one moved into the body.
#[op]
pub fn op_join(#[buffer] head: &[u8], #[buffer] tail: Vec<u8>, sep: &str) -> String {
    format!(
        "{}{sep}{}",
        String::from_utf8_lossy(head),
        String::from_utf8_lossy(&tail)
    )
}

/// Waits `ms` milliseconds on the host thread, then echoes `value`.
#[op]
pub async fn op_sleep_echo(ms: u64, value: String) -> String {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    value
}

/// Increments the counter through `Rc<RefCell<OpState>>`, across an await.
#[op]
pub async fn op_count_later(state: Rc<RefCell<OpState>>) -> Result<u64, OpError> {
    tokio::task::yield_now().await;
    let mut state = state.borrow_mut();
    let counter = state
        .borrow_mut::<Counter>()
        .ok_or_else(|| OpError::generic("no counter"))?;
    counter.0 += 1;
    Ok(counter.0)
}

/// Panics on the host thread, inside a future.
#[op]
pub async fn op_async_panic(message: String) -> u32 {
    tokio::task::yield_now().await;
    panic!("{message}")
}

/// Fills a buffer in an `async fn`.
#[op]
pub async fn op_fill_later(#[buffer] out: &mut [u8], byte: u8) -> usize {
    tokio::task::yield_now().await;
    out.fill(byte);
    out.len()
}

/// Fills the buffer after an await, then panics: the buffer still goes back.
#[op]
pub async fn op_fill_later_then_panic(#[buffer] out: &mut [u8], #[buffer] taken: Vec<u8>) {
    tokio::task::yield_now().await;
    out.fill(1);
    drop(taken);
    panic!("after filling")
}

extension!(
    pub fixtures,
    ops = [
        op_add,
        op_div,
        op_greet,
        op_sum,
        op_path_depth,
        op_translate,
        op_noop,
        op_panic,
        op_io_fail,
        op_count,
        op_open_count,
        op_set_label,
        op_label,
        op_rendezvous,
        op_note_new,
        op_note_try_new,
        op_note_read,
        op_note_append,
        op_note_wait,
        op_fill,
        op_fill_then_panic,
        op_checksum,
        op_join,
        op_sleep_echo,
        op_count_later,
        op_async_panic,
        op_fill_later,
        op_fill_later_then_panic,
    ],
    state = |state| {
        state.put(Counter::default());
        state.put(Label("label".into()));
    }
);

/// A runtime with the fixture ops.
pub fn runtime() -> opkit::Runtime {
    match opkit::Runtime::new([fixtures()]) {
        Ok(rt) => rt,
        Err(err) => panic!("fixtures register: {err}"),
    }
}

/// A JSON value from the bytes an op answered.
pub fn json(bytes: &[u8]) -> serde_json::Value {
    match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(err) => panic!("not JSON ({err}): {}", String::from_utf8_lossy(bytes)),
    }
}

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
