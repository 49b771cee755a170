//! The ops every runtime has.

use serde::Serialize;

use crate::{Extension, OpError, OpState, ResourceId, op};

/// Closes a resource: it leaves the table, and every op pending on it ends with
/// `Interrupted`.
#[op(sync)]
pub fn op_close(state: &mut OpState, rid: ResourceId) -> Result<(), OpError> {
    state.resource_table.close(rid)
}

/// One open resource, as `op_resources` lists it.
#[derive(Debug, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ResourceInfo {
    /// The resource id.
    pub rid: ResourceId,
    /// What the resource calls itself, e.g. `"fsFile"`.
    pub name: String,
}

/// Lists the open resources of this runtime, in rid order.
#[op(sync)]
pub fn op_resources(state: &OpState) -> Vec<ResourceInfo> {
    state
        .resource_table
        .names()
        .map(|(rid, name)| ResourceInfo {
            rid,
            name: name.into_owned(),
        })
        .collect()
}

pub(crate) fn extension() -> Extension {
    Extension::new(
        "core",
        op_close::DECLS.iter().chain(op_resources::DECLS).copied(),
    )
}
