//! The SQLite data directory and its files are owner-only, and a loose one is reported.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::admin_cli::Operator;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_data_directory_is_created_0700_and_its_files_0600() {
    let operator = Operator::new();
    let output = operator.run(&["migrate"]);
    assert!(output.success, "{}", output.stderr);
    assert!(
        !output.stderr.contains("readable by others"),
        "{}",
        output.stderr
    );
    let dir = operator.dir().join("portcullis-data");
    assert_eq!(mode(&dir), 0o700);
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 1, "the database at least");
}

#[test]
fn a_loose_data_directory_or_file_is_reported_at_start() {
    let operator = Operator::new();
    let dir = operator.dir().join("portcullis-data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = operator.run(&["migrate"]);
    assert!(output.success, "{}", output.stderr);
    assert!(
        output.stderr.contains("readable by others") && output.stderr.contains("portcullis-data"),
        "{}",
        output.stderr
    );
    // Fixed, the warning goes; a loose database file is reported the same way.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let db = dir.join("portcullis.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = operator.run(&["migrate"]);
    assert!(output.success, "{}", output.stderr);
    assert!(output.stderr.contains("portcullis.db"), "{}", output.stderr);
}
