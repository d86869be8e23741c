//! The files twofold writes into its data dir are the service user's alone: the SQLite database
//! (with its `-wal` and `-shm`) and the generated development master key are 0600, in a data dir
//! that already exists, whatever the umask; files left readable by others are narrowed at start.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::helpers::{Backend, TestApp, spawn_app_with};

/// The permission bits, in octal as `ls` and `chmod` write them.
fn mode(path: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}

/// The app on `dir` (which exists), with a generated master key.
async fn app_in(backend: Backend, dir: &Path) -> TestApp {
    let dir = dir.to_path_buf();
    spawn_app_with(backend, |raw| {
        raw.data_dir = dir;
        raw.master_key = None;
    })
    .await
}

/// Every file of the app in `dir` that holds secrets is 0600.
fn assert_private(backend: Backend, dir: &Path) {
    assert_eq!(mode(&dir.join("master.key")), "600", "master.key");
    if backend == Backend::Embedded {
        for name in ["twofold.db", "twofold.db-wal", "twofold.db-shm"] {
            let path = dir.join(name);
            if name == "twofold.db" || path.exists() {
                assert_eq!(mode(&path), "600", "{name}");
            }
        }
    }
}

async fn a_fresh_app_in_an_existing_dir_writes_private_files(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(backend, dir.path()).await;
    app.active_device("alice").await;
    assert_private(backend, dir.path());
}

async fn files_left_readable_are_narrowed_at_start(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    std::fs::write(
        &key,
        twofold::crypto::generate_master_key().unwrap().as_bytes(),
    )
    .unwrap();
    let db = dir.path().join("twofold.db");
    std::fs::write(&db, b"").unwrap();
    for path in [&key, &db] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let app = app_in(backend, dir.path()).await;
    app.active_device("alice").await;
    assert_private(backend, dir.path());
}

crate::both_backends!(
    a_fresh_app_in_an_existing_dir_writes_private_files,
    files_left_readable_are_narrowed_at_start,
);
