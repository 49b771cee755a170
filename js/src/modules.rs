//! ES modules: relative imports resolved against the importing module, and read
//! beneath the read roots through the fs sandbox.
//!
//! A specifier is resolved as a URL path is (Deno's rule): joined to the importing
//! module's folder and cleaned of `.` and `..` by spelling alone, so a module has one
//! name however it is reached. The name is then read with
//! [`FsContext::read_file`], which opens it beneath the handle of a read root with
//! `openat2(RESOLVE_BENEATH)`: the kernel follows the symlinks on the way and refuses
//! any that lead out, in the same lookup that opens the file. There is no window
//! between a check and the read for a swapped symlink to slip through.

use std::path::{Component, Path, PathBuf};

use opkit::{ErrorClass, OpError};
use opkit_fs::{FsContext, FsPermissions};
use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::{Ctx, Error, Module, module::Declared};

/// The roots modules may be loaded from.
#[derive(Clone, Default)]
pub(crate) struct ModuleRoots {
    fs: Option<FsContext<FsPermissions>>,
}

impl ModuleRoots {
    /// Lets modules beneath `root` (a folder, or one file) load.
    pub(crate) fn push(&mut self, root: &Path) -> std::io::Result<()> {
        // Refuse a root that is not there now, as an embedder would want to know.
        std::fs::metadata(root)?;
        let perms = match self.fs.take() {
            Some(fs) => fs.permissions().clone(),
            None => FsPermissions::deny_all(),
        };
        self.fs = Some(FsContext::new(perms.allow_read(root)));
        Ok(())
    }

    /// The source of the module named `name` (absolute and clean), read beneath a
    /// root, or why it may not be loaded.
    pub(crate) fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        let refused = || {
            format!(
                "PermissionDenied: module '{name}' is outside the read roots; allow its folder with --allow-read"
            )
        };
        let Some(fs) = &self.fs else {
            return Err(refused());
        };
        fs.read_file(name)
            .map_err(|err: OpError| match err.class() {
                ErrorClass::PermissionDenied => refused(),
                _ => format!("cannot load module '{name}': {}", err.message()),
            })
    }
}

/// `path` made absolute against the current folder and cleaned by spelling: no `.`,
/// and each `..` takes off the name before it (never past `/`).
pub(crate) fn module_name(path: &Path) -> Result<String, String> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|err| format!("cannot resolve '{}': {err}", path.display()))?
            .join(path)
    };
    let mut clean = PathBuf::from("/");
    for part in absolute.components() {
        match part {
            Component::Normal(name) => clean.push(name),
            Component::ParentDir => {
                clean.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    clean
        .into_os_string()
        .into_string()
        .map_err(|raw| format!("module path '{}' is not UTF-8", Path::new(&raw).display()))
}

/// Resolves `./x.js`, `../x.js` and `/x.js` against the importing module; nothing else.
pub(crate) struct RootedResolver;

impl Resolver for RootedResolver {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        if !(name.starts_with("./") || name.starts_with("../") || name.starts_with('/')) {
            return Err(Error::new_resolving_message(
                base,
                name,
                "only relative imports ('./', '../') and absolute paths are supported",
            ));
        }
        let dir = Path::new(base).parent().unwrap_or(Path::new("/"));
        module_name(&dir.join(name)).map_err(|msg| Error::new_resolving_message(base, name, msg))
    }
}

/// Reads a resolved module beneath a root and declares it.
pub(crate) struct RootedLoader(pub(crate) ModuleRoots);

impl Loader for RootedLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let source = self
            .0
            .read(name)
            .map_err(|msg| Error::new_loading_message(name, msg))?;
        Module::declare(ctx.clone(), name, source)
    }
}
