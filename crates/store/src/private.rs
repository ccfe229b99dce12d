//! The SQLite data directory and files are the server's secrets at rest (password hashes,
//! encrypted keys, personal data): created owner-only, and reported when they are not.

use std::path::{Path, PathBuf};

/// Creates `dir` and any missing parents, new ones with mode 0700.
///
/// # Errors
/// I/O failures.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Creates `file` empty with mode 0600 if it does not exist; leaves an existing one alone.
///
/// # Errors
/// I/O failures.
pub fn create_file(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// A path that others than its owner may read or enter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposed {
    /// The directory or file.
    pub path: PathBuf,
    /// Its permission bits.
    pub mode: u32,
}

/// Of the SQLite database at `file`: its directory, the file, its `-wal`, `-shm` and `.lock`
/// companions and the generated key-encryption key beside it, those that exist with any group
/// or other permission bit set.
#[must_use]
pub fn exposed(file: &Path) -> Vec<Exposed> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut paths = Vec::new();
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        paths.push(dir.to_path_buf());
        paths.push(dir.join("key-encryption-key"));
    }
    paths.push(file.to_path_buf());
    for suffix in ["-wal", "-shm", ".lock"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        paths.push(PathBuf::from(name));
    }
    paths
        .into_iter()
        .filter_map(|path| {
            let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then_some(Exposed { path, mode })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_directories_and_files_are_owner_only_and_loose_ones_are_reported() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        let file = dir.join("portcullis.db");
        create_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(exposed(&file), []);
        // An existing file is left as it is, and reported.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_file(&file).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let wal = dir.join("portcullis.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o640)).unwrap();
        let found = exposed(&file);
        assert_eq!(
            found,
            [
                Exposed {
                    path: dir.clone(),
                    mode: 0o755
                },
                Exposed {
                    path: file.clone(),
                    mode: 0o644
                },
                Exposed {
                    path: wal,
                    mode: 0o640
                },
            ]
        );
    }
}
