//! The dispatch table a host serves: opkit's built-ins, `opkit-fs` and `opkit-net`,
//! with the permissions granted.

use std::sync::Arc;

use opkit::DispatchTable;

use crate::config::Grants;

/// Builds the table. The state setup of each extension carries the grants, so every
/// session's runtime gets its own copy of the cwd and umask.
/// `max_read` caps the files read whole into one reply.
pub fn build_table(grants: &Grants, max_read: Option<usize>) -> Result<Arc<DispatchTable>, String> {
    let mut fs = opkit_fs::FsPermissions::deny_all();
    for root in &grants.read {
        fs = fs.allow_read(root);
    }
    for root in &grants.write {
        fs = fs.allow_write(root);
    }
    let mut context = opkit_fs::FsContext::new(fs);
    if let Some(cwd) = &grants.cwd {
        context = context.with_cwd(cwd);
    }
    if let Some(max) = max_read {
        context = context.with_max_read(max as u64);
    }
    let mut net = opkit_net::NetPermissions::new();
    for entry in &grants.net {
        net = net
            .allow(entry)
            .map_err(|err| format!("--allow-net {entry}: {}", err.message()))?;
    }
    let table = DispatchTable::new([opkit_fs::extension_with(context), opkit_net::extension(net)])
        .map_err(|err| err.to_string())?;
    Ok(Arc::new(table))
}

/// The flag that would allow what an op was refused, from its declared permission.
pub fn flag_for(meta: &opkit::OpMeta) -> Option<String> {
    let permission = meta.permission?;
    let mut flags = Vec::new();
    if permission.contains("fs.read") {
        flags.push("--allow-read=DIR");
    }
    if permission.contains("fs.write") {
        flags.push("--allow-write=DIR");
    }
    if permission.contains("net.") {
        flags.push("--allow-net=HOST:PORT");
    }
    if flags.is_empty() {
        return None;
    }
    Some(format!("run with {} to allow it", flags.join(" or ")))
}
