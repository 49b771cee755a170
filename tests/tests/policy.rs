//! A host's policy sees every call's metadata before it runs and may refuse it: here
//! a session of the real fs ops that may only read.

use opkit::{ErrorClass, OpError, OpMode, Runtime};
use opkit_fs::{FsContext, FsPermissions};

/// The fs ops on a fresh folder that they may read and write; the policy is what
/// narrows it.
fn fs_runtime() -> (Runtime, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "opkit-policy-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kept.txt"), "kept").unwrap();
    let perms = FsPermissions::deny_all().allow_read(&dir).allow_write(&dir);
    let ctx = FsContext::new(perms).with_cwd(&dir);
    (Runtime::new([opkit_fs::extension_with(ctx)]).unwrap(), dir)
}

/// Only ops that declare no permission or `fs.read`.
fn read_only(rt: &mut Runtime) {
    rt.set_policy(|entry| match entry.decl.meta.permission {
        None | Some("fs.read") => Ok(()),
        Some(other) => Err(OpError::permission_denied(format!(
            "this session may not use {other} (extension {})",
            entry.extension
        ))),
    });
}

#[tokio::test(flavor = "current_thread")]
async fn a_read_only_policy_refuses_writes_before_they_run() {
    let (mut rt, dir) = fs_runtime();
    read_only(&mut rt);
    let read = rt
        .call_sync("op_read_text_file_sync", br#"["kept.txt"]"#, &mut [])
        .unwrap();
    assert_eq!(read, br#""kept""#);

    let refused = rt
        .call_sync("op_write_text_file_sync", br#"["new.txt", "x"]"#, &mut [])
        .unwrap_err();
    assert_eq!(refused.class(), ErrorClass::PermissionDenied, "{refused}");
    assert_eq!(refused.op(), Some("op_write_text_file"), "{refused}");
    assert!(refused.to_string().contains("fs.write"), "{refused}");
    assert!(refused.to_string().contains("extension fs"), "{refused}");

    let output = rt
        .call_async(
            "op_write_text_file_async",
            br#"["new.txt", "x"]"#,
            Vec::new(),
        )
        .await;
    let refused = output.result.unwrap_err();
    assert_eq!(refused.class(), ErrorClass::PermissionDenied, "{refused}");
    assert!(
        !dir.join("new.txt").exists(),
        "the refused writes never ran"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_policy_sees_the_entry_mode() {
    let (mut rt, dir) = fs_runtime();
    rt.set_policy(|entry| {
        if entry.decl.mode == OpMode::Sync {
            Ok(())
        } else {
            Err(OpError::permission_denied("sync entries only"))
        }
    });
    assert!(
        rt.call_sync("op_read_text_file_sync", br#"["kept.txt"]"#, &mut [])
            .is_ok()
    );
    let output = rt
        .call_async("op_read_text_file_async", br#"["kept.txt"]"#, Vec::new())
        .await;
    let refused = output.result.unwrap_err();
    assert_eq!(refused.class(), ErrorClass::PermissionDenied, "{refused}");
    assert_eq!(refused.op(), Some("op_read_text_file"), "{refused}");
    std::fs::remove_dir_all(dir).unwrap();
}
