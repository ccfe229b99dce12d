//! A command's output on standard output. A reader that goes away (`portcullis audit --json |
//! head`) ends the command quietly instead of a panic: [`out!`] turns the closed pipe into
//! [`StdoutClosed`], which `main` recognises.

/// Standard output was closed by its reader: the command stops, and nothing is wrong.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// The error of a failed write to standard output: [`StdoutClosed`] for a closed pipe, the
/// I/O error otherwise.
#[must_use]
pub fn write_failed(error: std::io::Error) -> anyhow::Error {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        anyhow::Error::new(StdoutClosed)
    } else {
        anyhow::Error::new(error).context("cannot write to standard output")
    }
}

/// Whether `error` is a closed standard output.
#[must_use]
pub fn is_stdout_closed(error: &anyhow::Error) -> bool {
    error.downcast_ref::<StdoutClosed>().is_some()
}

/// `println!` for a command's output, as a `Result` to `?`: see the module.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::output::write_failed)
    }};
}
