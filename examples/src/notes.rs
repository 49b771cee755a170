//! The ops of `notes-server`: a note store shared by every session, a cursor held by
//! rid, an op that awaits, one that fills a byte buffer, and the caller each session
//! was told about.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use opkit::{ErrorClass, Extension, NewResource, OpError, Resource, extension, op};
use opkit_server::{SessionInfo, Transport};
use serde::Serialize;
use tokio::sync::Notify;

/// The longest note, in bytes.
const MAX_NOTE_BYTES: usize = 4096;
/// The most notes the store holds, so that no client can fill the host's memory.
const MAX_NOTES: usize = 10_000;
/// The longest `op_note_wait` waits.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The notes: one store, and a handle to it in every session's state.
#[derive(Clone, Default)]
pub struct Notes {
    list: Arc<Mutex<Vec<String>>>,
    /// Woken whenever a note is added, for `op_note_wait`.
    added: Arc<Notify>,
}

impl Notes {
    fn lock(&self) -> MutexGuard<'_, Vec<String>> {
        // Nothing panics while the lock is held with the list half-changed, so a
        // poisoned list is still a good one.
        self.list.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the note ops refuse, each with the class a guest sees in `error.data.class`.
#[derive(Debug)]
pub enum NoteError {
    Empty,
    TooLong { len: usize },
    Full,
    NoSuchNote { index: usize },
    TimedOut { count: usize, waited: Duration },
}

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "a note cannot be empty"),
            Self::TooLong { len } => {
                write!(f, "the note has {len} bytes; at most {MAX_NOTE_BYTES} fit")
            }
            Self::Full => write!(f, "the store holds {MAX_NOTES} notes, its most"),
            Self::NoSuchNote { index } => write!(f, "there is no note {index}"),
            Self::TimedOut { count, waited } => {
                write!(f, "fewer than {count} notes after {waited:?}")
            }
        }
    }
}

impl std::error::Error for NoteError {}

/// What lets the ops return `Result<_, NoteError>`: the runtime turns the error
/// into an `OpError` and names the op.
impl From<NoteError> for OpError {
    fn from(err: NoteError) -> Self {
        let class = match err {
            NoteError::Empty | NoteError::TooLong { .. } => ErrorClass::InvalidData,
            NoteError::Full => ErrorClass::ResourceExhausted,
            NoteError::NoSuchNote { .. } => ErrorClass::NotFound,
            NoteError::TimedOut { .. } => ErrorClass::TimedOut,
        };
        OpError::new(class, err.to_string())
    }
}

/// Adds a note and returns how many there are.
#[op]
fn op_note_add(#[state] notes: &Notes, text: String) -> Result<usize, NoteError> {
    if text.is_empty() {
        return Err(NoteError::Empty);
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLong { len: text.len() });
    }
    let mut list = notes.lock();
    if list.len() >= MAX_NOTES {
        return Err(NoteError::Full);
    }
    list.push(text);
    let count = list.len();
    drop(list); // the waiters woken next take the lock at once
    notes.added.notify_waiters();
    Ok(count)
}

/// Every note, oldest first.
#[op(sync)]
fn op_note_list(#[state] notes: &Notes) -> Vec<String> {
    notes.lock().clone()
}

/// Waits until there are at least `count` notes, added by any session, and returns
/// how many there are; `TimedOut` after `timeout_ms` milliseconds (at most a minute).
#[op]
async fn op_note_wait(
    #[state] notes: &Notes,
    count: usize,
    timeout_ms: u64,
) -> Result<usize, NoteError> {
    let waited = Duration::from_millis(timeout_ms).min(MAX_WAIT);
    let enough = async {
        loop {
            // Made before the count is read, so a note added in between still
            // wakes it (`notify_waiters` reaches every `Notified` made before it).
            let added = notes.added.notified();
            let now = notes.lock().len();
            if now >= count {
                return now;
            }
            added.await;
        }
    };
    tokio::time::timeout(waited, enough)
        .await
        .map_err(|_| NoteError::TimedOut { count, waited })
}

/// A position in the notes, held by rid by the session that opened it.
pub struct Cursor(AtomicUsize);

impl Resource for Cursor {}

/// Opens a cursor at the first note and returns its rid.
#[op(sync)]
fn op_note_cursor() -> NewResource<Cursor> {
    NewResource(Cursor(AtomicUsize::new(0)))
}

/// The note under the cursor, moving the cursor on; `null` past the last note (the
/// cursor then stays, and finds the notes added later).
#[op(sync)]
fn op_note_next(#[state] notes: &Notes, #[resource] cursor: &Cursor) -> Option<String> {
    // The store's lock also keeps two calls on one cursor from reading one place.
    let list = notes.lock();
    let at = cursor.0.load(Ordering::Relaxed);
    let note = list.get(at)?.clone();
    cursor.0.store(at + 1, Ordering::Relaxed);
    Some(note)
}

/// Copies note `index` into the buffer, as UTF-8, and returns how many bytes it
/// copied: the whole note, or as much of it as fits.
#[op]
fn op_note_read(
    #[state] notes: &Notes,
    index: usize,
    #[buffer] buf: &mut [u8],
) -> Result<usize, NoteError> {
    let list = notes.lock();
    let note = list.get(index).ok_or(NoteError::NoSuchNote { index })?;
    let len = note.len().min(buf.len());
    buf[..len].copy_from_slice(&note.as_bytes()[..len]);
    Ok(len)
}

/// The caller of a session, as its connection told the server.
#[derive(Clone, Serialize)]
pub struct Caller {
    transport: &'static str,
    /// `None` over stdio.
    peer: Option<SocketAddr>,
    /// Whether the caller showed the server's token.
    authenticated: bool,
}

impl From<&SessionInfo> for Caller {
    fn from(info: &SessionInfo) -> Self {
        let transport = match info.transport {
            Transport::Http => "Http",
            Transport::WebSocket => "WebSocket",
            Transport::Stdio => "Stdio",
        };
        Self {
            transport,
            peer: info.peer,
            authenticated: info.authenticated,
        }
    }
}

/// Who is calling: the transport, the address and whether the token was shown.
#[op(sync)]
fn op_whoami(#[state] caller: &Caller) -> Caller {
    caller.clone()
}

extension!(
    notes,
    ops = [
        op_note_add,
        op_note_list,
        op_note_wait,
        op_note_cursor,
        op_note_next,
        op_note_read,
        op_whoami,
    ]
);

/// The note ops over one store: every session's state gets a handle to `store`.
pub fn extension(store: Notes) -> Extension {
    notes().with_state(move |state| {
        state.put(store.clone());
    })
}
