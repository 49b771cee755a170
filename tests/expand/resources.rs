#![deny(warnings)]

use std::sync::Mutex;

use opkit::{NewResource, OpError, Resource, op};

/// Some text held by rid.
pub struct Note(pub Mutex<String>);

impl Resource for Note {}

/// Creates a note.
#[op]
pub fn op_note_new(text: String) -> NewResource<Note> {
    NewResource(Note(Mutex::new(text)))
}

/// Reads a note.
#[op]
pub fn op_note_read(#[resource] note: &Note) -> Result<String, OpError> {
    note.0
        .lock()
        .map(|text| text.clone())
        .map_err(|_| OpError::generic("poisoned"))
}

fn main() {
    assert_eq!(op_note_read::META.params[0].name, "note");
}
