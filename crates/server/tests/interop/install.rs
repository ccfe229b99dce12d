//! The third-party libraries, installed once per target directory and shared by every test of
//! this binary: `npm ci` from `js/package-lock.json` and a Python venv from
//! `python/requirements.txt`, under `target/tmp/interop/`. A file lock keeps two test processes
//! from installing at once; a stamp (the lock file or requirements as installed) makes later
//! runs skip the install until a pinned version changes. An install that fails (a registry out
//! of reach, say) fails the tests that need it: they are never skipped.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use tokio::sync::OnceCell;

/// Where the scripts and the pinned dependency lists are committed.
pub const SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");

/// What the tests run the libraries with.
#[derive(Debug)]
pub struct Tools {
    /// The npm project: `node_modules` and a copy of the `.mjs` scripts (Node resolves
    /// packages from the script's own folder).
    pub node_dir: PathBuf,
    /// The venv's interpreter.
    pub python: PathBuf,
    /// The venv's `schemathesis` command.
    pub schemathesis: PathBuf,
}

/// The install's outcome, failure included: one failed install fails every test that needs it
/// with its message, instead of each test trying again against a registry out of reach.
static TOOLS: OnceCell<Result<Tools, String>> = OnceCell::const_new();

/// The installed tools; the first caller installs them.
///
/// # Panics
/// When the install failed: the test cannot run its library.
pub async fn tools() -> &'static Tools {
    let installed = TOOLS
        .get_or_init(|| async {
            tokio::task::spawn_blocking(|| std::panic::catch_unwind(install))
                .await
                .map_err(|e| e.to_string())
                .and_then(|done| done.map_err(|panic| message(&*panic)))
        })
        .await;
    match installed {
        Ok(tools) => tools,
        Err(why) => panic!("the interop test set-up could not install its libraries: {why}"),
    }
}

fn message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "the install panicked".to_owned())
}

fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop")
}

fn install() -> Tools {
    let cache = cache();
    fs::create_dir_all(&cache).unwrap();
    let lock = File::create(cache.join(".lock")).unwrap();
    // Held until the end of this function: another test process waits here.
    lock.lock().unwrap();
    let node_dir = install_node(&cache.join("node"));
    let venv = install_python(&cache.join("venv"));
    Tools {
        node_dir,
        python: venv.join("bin/python"),
        schemathesis: venv.join("bin/schemathesis"),
    }
}

fn install_node(dir: &Path) -> PathBuf {
    let version = output(Command::new("node").arg("--version"), "node --version");
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "the interop tests need Node 20 or newer, found {version}"
    );
    fs::create_dir_all(dir).unwrap();
    let sources = Path::new(SOURCES).join("js");
    let lock = fs::read(sources.join("package-lock.json")).unwrap();
    let stamp = dir.join(".installed");
    let installed = fs::read(&stamp).is_ok_and(|s| s == lock) && dir.join("node_modules").is_dir();
    if !installed {
        fs::copy(sources.join("package.json"), dir.join("package.json")).unwrap();
        fs::copy(
            sources.join("package-lock.json"),
            dir.join("package-lock.json"),
        )
        .unwrap();
        // None of the pinned packages has an install script; refusing them keeps it that way.
        run(
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(dir),
            "npm ci (from the npm registry: is it reachable?)",
        );
        fs::write(&stamp, &lock).unwrap();
    }
    for entry in fs::read_dir(&sources).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "mjs") {
            fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    dir.to_owned()
}

fn install_python(venv: &Path) -> PathBuf {
    let requirements = Path::new(SOURCES).join("python/requirements.txt");
    let pinned = fs::read(&requirements).unwrap();
    let stamp = venv.join(".installed");
    if fs::read(&stamp).is_ok_and(|s| s == pinned) && venv.join("bin/python").exists() {
        return venv.to_owned();
    }
    if !venv.join("bin/python").exists() {
        run(
            Command::new("python3").arg("-m").arg("venv").arg(venv),
            "python3 -m venv",
        );
    }
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--disable-pip-version-check", "--quiet", "-r"])
            .arg(&requirements),
        "pip install -r python/requirements.txt (from PyPI: is it reachable?)",
    );
    fs::write(&stamp, &pinned).unwrap();
    venv.to_owned()
}

fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn output(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start ({e}); the interop tests need it"));
    assert!(out.status.success(), "{what} failed ({})", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}
