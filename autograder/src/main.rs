//! `grade`: heaplab's autograder (`cargo grade lesson4`). Everything it does
//! is in the library; see `cli`. On a system other than Linux it says, in
//! one line, that it needs Linux and where to find it.

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    heaplab_autograder::cli::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!("{}", not_linux(std::env::consts::OS));
    std::process::ExitCode::from(2)
}

/// The one line `grade` prints on `os`, where it cannot grade.
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn not_linux(os: &str) -> String {
    format!(
        "grade: heaplab needs Linux (its mmap flags, LD_PRELOAD, prctl) and this is {os}; \
         open the course in its dev container (.devcontainer/: VS Code's \"Reopen in \
         Container\", or GitHub Codespaces) and run cargo grade there"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn off_linux_grade_says_where_to_go_in_one_line() {
        let line = super::not_linux("macos");
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.contains("needs Linux") && line.contains("macos"),
            "{line}"
        );
        assert!(line.contains(".devcontainer/"), "{line}");
    }
}
