//! What the host may touch and how hard it may be pushed: from flags, a TOML file, or
//! the default working folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use opkit_server::Limits;

/// The permission flags shared by `serve` and `call`.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct PermissionFlags {
    /// Allow reading under DIR (repeatable).
    #[arg(long = "allow-read", value_name = "DIR")]
    pub allow_read: Vec<PathBuf>,
    /// Allow writing under DIR (repeatable).
    #[arg(long = "allow-write", value_name = "DIR")]
    pub allow_write: Vec<PathBuf>,
    /// Allow connecting, listening and sending to HOST[:PORT] (repeatable).
    #[arg(long = "allow-net", value_name = "HOST[:PORT]")]
    pub allow_net: Vec<String>,
}

impl PermissionFlags {
    pub fn is_empty(&self) -> bool {
        self.allow_read.is_empty() && self.allow_write.is_empty() && self.allow_net.is_empty()
    }
}

/// The config file. Every key is optional; flags add to what it allows.
///
/// ```toml
/// addr = "127.0.0.1:8765"
/// cwd = "data"
/// allow_read = ["data", "/etc/hosts"]
/// allow_write = ["data"]
/// allow_net = ["127.0.0.1:9000"]
///
/// [limits]
/// max_message_bytes = 1048576
/// max_concurrent = 64
/// idle_timeout_secs = 300
/// max_rids = 1024
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub addr: Option<String>,
    pub cwd: Option<PathBuf>,
    #[serde(default)]
    pub allow_read: Vec<PathBuf>,
    #[serde(default)]
    pub allow_write: Vec<PathBuf>,
    #[serde(default)]
    pub allow_net: Vec<String>,
    #[serde(default)]
    pub limits: LimitsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub max_message_bytes: Option<usize>,
    pub max_concurrent: Option<usize>,
    pub idle_timeout_secs: Option<u64>,
    pub max_rids: Option<usize>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read config {}: {err}", path.display()))?;
        let mut config: Self = toml::from_str(&text)
            .map_err(|err| format!("invalid config {}: {err}", path.display()))?;
        // Relative paths in the file are relative to the file.
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        config.allow_read.iter_mut().for_each(rebase);
        config.allow_write.iter_mut().for_each(rebase);
        if let Some(cwd) = &mut config.cwd {
            rebase(cwd);
        }
        Ok(config)
    }

    pub fn limits(&self, base: Limits) -> Limits {
        Limits {
            max_message_bytes: self
                .limits
                .max_message_bytes
                .unwrap_or(base.max_message_bytes),
            max_concurrent: self
                .limits
                .max_concurrent
                .unwrap_or(base.max_concurrent)
                .max(1),
            idle_timeout: self
                .limits
                .idle_timeout_secs
                .map_or(base.idle_timeout, Duration::from_secs),
            max_rids: self.limits.max_rids.unwrap_or(base.max_rids),
        }
    }
}

/// Everything the ops of one host may reach.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub cwd: Option<PathBuf>,
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
    pub net: Vec<String>,
}

impl Grants {
    pub fn from_parts(flags: &PermissionFlags, config: &ConfigFile) -> Self {
        Self {
            cwd: config.cwd.clone(),
            read: config
                .allow_read
                .iter()
                .chain(&flags.allow_read)
                .cloned()
                .collect(),
            write: config
                .allow_write
                .iter()
                .chain(&flags.allow_write)
                .cloned()
                .collect(),
            net: config
                .allow_net
                .iter()
                .chain(&flags.allow_net)
                .cloned()
                .collect(),
        }
    }

    /// The default of `opkit serve`: read and write inside one working folder, which
    /// is also the ops' working directory; no network.
    pub fn working_folder(folder: PathBuf) -> Self {
        Self {
            cwd: Some(folder.clone()),
            read: vec![folder.clone()],
            write: vec![folder],
            net: Vec::new(),
        }
    }
}
