//! Whole-file contents: read_file, read_text_file, write_file, write_text_file.

use std::io::{Read, Write};

use opkit::{ByteBuf, ErrorClass, OpError, op};
use rustix::fs::OFlags;

use crate::context::{FsContext, path_error, quoted};
use crate::file::{OpenOptions, open_checked};
use crate::permissions::{Access, FsPermissionCheck};

/// Reads a whole file. The result is the file's bytes as they are (no JSON; base64
/// over JSON-RPC).
#[op(permission = "fs.read")]
pub fn op_read_file<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<ByteBuf, OpError> {
    read_whole(ctx, path).map(ByteBuf)
}

/// Reads a whole file as UTF-8 text (`InvalidData` if it is not).
#[op(permission = "fs.read")]
pub fn op_read_text_file<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
) -> Result<String, OpError> {
    String::from_utf8(read_whole(ctx, path)?)
        .map_err(|err| OpError::new(ErrorClass::InvalidData, err.to_string()).context(quoted(path)))
}

pub(crate) fn read_whole<P: FsPermissionCheck>(
    ctx: &FsContext<P>,
    path: &str,
) -> Result<Vec<u8>, OpError> {
    let guest = ctx.path(Access::Read, path)?;
    let file = guest.open_file(OFlags::RDONLY, 0)?;
    let max = ctx.max_read();
    let too_large = || {
        OpError::new(
            ErrorClass::ResourceExhausted,
            format!(
                "{}: the file is larger than the {max} bytes a whole-file read may take; \
                 open it and read it in parts",
                quoted(path)
            ),
        )
    };
    // The size as a hint, as `std::fs::read` takes it: one allocation for a file that
    // does not grow meanwhile. One byte past the limit tells a larger file.
    let size = file.metadata().map_or(0, |meta| meta.len());
    if size > max {
        return Err(too_large());
    }
    let mut contents = Vec::new();
    contents
        .try_reserve_exact(usize::try_from(size).unwrap_or(usize::MAX))
        .map_err(|_| too_large())?;
    file.take(max.saturating_add(1))
        .read_to_end(&mut contents)
        .map_err(|err| path_error(path, err))?;
    if contents.len() as u64 > max {
        return Err(too_large());
    }
    Ok(contents)
}

/// Writes the buffer as a file's whole contents. `create` (default `true`) makes the
/// file if it is missing, `create_new` requires that it is, `append` adds to the end
/// instead of replacing; a new file gets `mode` (default `0o666`) less the runtime's
/// umask.
#[op(permission = "fs.write")]
pub fn op_write_file<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    #[buffer] data: &[u8],
    append: Option<bool>,
    create: Option<bool>,
    create_new: Option<bool>,
    mode: Option<u32>,
) -> Result<(), OpError> {
    let options = write_options(append, create, create_new, mode);
    write_whole(ctx, path, data, &options)
}

/// Writes a string as a file's whole contents, with the options of `op_write_file`.
#[op(permission = "fs.write")]
pub fn op_write_text_file<P: FsPermissionCheck>(
    #[state] ctx: &FsContext<P>,
    path: &str,
    text: &str,
    append: Option<bool>,
    create: Option<bool>,
    create_new: Option<bool>,
    mode: Option<u32>,
) -> Result<(), OpError> {
    let options = write_options(append, create, create_new, mode);
    write_whole(ctx, path, text.as_bytes(), &options)
}

fn write_options(
    append: Option<bool>,
    create: Option<bool>,
    create_new: Option<bool>,
    mode: Option<u32>,
) -> OpenOptions {
    let append = append.unwrap_or(false);
    OpenOptions {
        write: !append,
        append,
        truncate: !append,
        create: create.unwrap_or(true),
        create_new: create_new.unwrap_or(false),
        mode,
        ..OpenOptions::default()
    }
}

fn write_whole<P: FsPermissionCheck>(
    ctx: &FsContext<P>,
    path: &str,
    data: &[u8],
    options: &OpenOptions,
) -> Result<(), OpError> {
    options.validate()?;
    let guest = ctx.path(Access::Write, path)?;
    let mut file = open_checked(ctx, &guest, options)?;
    file.write_all(data).map_err(|err| path_error(path, err))
}
