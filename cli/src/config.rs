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
/// token = "a-secret-of-16-or-more-characters"
///
/// [limits]
/// max_message_bytes = 1048576
/// max_reply_bytes = 16777216
/// max_concurrent = 64
/// idle_timeout_secs = 300
/// max_rids = 1024
/// max_unsent_bytes = 33554432
/// max_connections = 256
/// header_timeout_secs = 10
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
    /// The token TCP clients show; a random one when neither this nor a flag says.
    pub token: Option<String>,
    #[serde(default)]
    pub limits: LimitsFile,
}

/// The limits, from the `[limits]` table of the file or from flags of the same
/// names; a flag wins over the file.
#[derive(Debug, Default, Clone, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// The largest message answered, in bytes.
    #[arg(long)]
    pub max_message_bytes: Option<usize>,
    /// The largest reply sent, in bytes; a larger answer becomes an error.
    #[arg(long)]
    pub max_reply_bytes: Option<usize>,
    /// Calls of one session in flight at once (batch members too); more wait.
    #[arg(long)]
    pub max_concurrent: Option<usize>,
    /// Seconds a session may sit idle before it is closed.
    #[arg(long = "idle-timeout", value_name = "SECS")]
    #[serde(rename = "idle_timeout_secs")]
    pub idle_timeout: Option<u64>,
    /// Resources (rids) one session may hold open at once.
    #[arg(long)]
    pub max_rids: Option<usize>,
    /// Bytes of replies a WebSocket client may leave unread before it is dropped.
    #[arg(long)]
    pub max_unsent_bytes: Option<usize>,
    /// Connections open at once; more are answered 503.
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Seconds a connection has to send a request's headers.
    #[arg(long = "header-timeout", value_name = "SECS")]
    #[serde(rename = "header_timeout_secs")]
    pub header_timeout: Option<u64>,
}

impl LimitsFile {
    /// `base` with every limit set here.
    pub fn apply(&self, base: Limits) -> Limits {
        Limits {
            max_message_bytes: self.max_message_bytes.unwrap_or(base.max_message_bytes),
            max_reply_bytes: self.max_reply_bytes.unwrap_or(base.max_reply_bytes),
            max_concurrent: self.max_concurrent.unwrap_or(base.max_concurrent),
            idle_timeout: self
                .idle_timeout
                .map_or(base.idle_timeout, Duration::from_secs),
            max_rids: self.max_rids.unwrap_or(base.max_rids),
            max_unsent_bytes: self.max_unsent_bytes.unwrap_or(base.max_unsent_bytes),
            max_connections: self.max_connections.unwrap_or(base.max_connections),
            header_timeout: self
                .header_timeout
                .map_or(base.header_timeout, Duration::from_secs),
        }
    }
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

    /// The limits: the defaults, then the file, then the flags.
    pub fn limits(&self, flags: &LimitsFile) -> Limits {
        flags.apply(self.limits.apply(Limits::default())).clamped()
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
