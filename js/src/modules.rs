//! ES modules: relative imports resolved beneath the read roots, and read from there.

use std::path::{Path, PathBuf};

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::{Ctx, Error, Module, module::Declared};

/// The roots modules may be loaded from, canonicalized once.
#[derive(Debug, Clone, Default)]
pub(crate) struct ModuleRoots {
    roots: Vec<PathBuf>,
}

impl ModuleRoots {
    pub(crate) fn push(&mut self, root: &Path) -> std::io::Result<()> {
        self.roots.push(std::fs::canonicalize(root)?);
        Ok(())
    }

    /// The canonical path of `path` if it lies beneath a root, or why it may not be
    /// loaded.
    pub(crate) fn check(&self, path: &Path) -> Result<PathBuf, String> {
        let real = std::fs::canonicalize(path)
            .map_err(|err| format!("cannot load module '{}': {err}", path.display()))?;
        if self.roots.iter().any(|root| real.starts_with(root)) {
            Ok(real)
        } else {
            Err(format!(
                "PermissionDenied: module '{}' is outside the read roots; allow its folder with --allow-read",
                real.display()
            ))
        }
    }
}

/// Resolves `./x.js` and `../x.js` against the importing module; nothing else.
pub(crate) struct RootedResolver(pub(crate) ModuleRoots);

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
        let real = self
            .0
            .check(&dir.join(name))
            .map_err(|msg| Error::new_resolving_message(base, name, msg))?;
        Ok(real.to_string_lossy().into_owned())
    }
}

/// Reads a resolved module (a canonical path beneath a root) and declares it.
pub(crate) struct RootedLoader(pub(crate) ModuleRoots);

impl Loader for RootedLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        // Checked again: a name that did not come through the resolver must not load.
        let real = self
            .0
            .check(Path::new(name))
            .map_err(|msg| Error::new_loading_message(name, msg))?;
        let source = std::fs::read(&real)
            .map_err(|err| Error::new_loading_message(name, err.to_string()))?;
        Module::declare(ctx.clone(), name, source)
    }
}
