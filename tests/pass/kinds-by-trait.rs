// Return kinds and optional arguments decided by trait on the concrete type: a
// `Result` alias, renamed imports of `ByteBuf` and `NewResource`, an `Option` alias, a
// serializable struct whose name ends in `Result`, a `Rid` inside a result and an
// optional `#[resource]`.
#![deny(warnings)]

use opkit::{ByteBuf as Bytes, NewResource as Fresh, OpError, Resource, Rid};
use serde::Serialize;

pub struct ApiError;

impl From<ApiError> for OpError {
    fn from(_: ApiError) -> Self {
        OpError::generic("api")
    }
}

pub type Fallible<T> = Result<T, ApiError>;
pub type Maybe<T> = Option<T>;

#[derive(Serialize)]
pub struct SearchResult {
    pub hits: u32,
}

pub struct Handle;
impl Resource for Handle {}

#[derive(Serialize)]
pub struct Opened {
    pub rid: Rid<Handle>,
    pub name: String,
}

#[opkit::op]
pub fn op_aliased(limit: Maybe<u32>) -> Fallible<SearchResult> {
    Ok(SearchResult {
        hits: limit.unwrap_or(0),
    })
}

#[opkit::op]
pub fn op_renamed(len: u8) -> Fallible<Bytes> {
    Ok(Bytes(vec![0; len as usize]))
}

#[opkit::op]
pub fn op_fresh() -> std::io::Result<Fresh<Handle>> {
    Ok(Fresh(Handle))
}

#[opkit::op]
pub fn op_opened(name: String, #[resource] parent: Option<&Handle>) -> Opened {
    let _ = parent;
    Opened {
        rid: Rid::new(Handle),
        name,
    }
}

fn main() {
    assert!(op_renamed::META.returns_bytes);
    assert!(!op_aliased::META.returns_bytes);
    assert!(op_aliased::META.params[0].optional);
    assert!(op_opened::META.params[1].optional);
    let _ = (op_fresh::DECLS, op_opened::DECLS);
}
