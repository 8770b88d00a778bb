//! `grade`: heaplab's autograder (`cargo grade lesson4`). Everything it does
//! is in the library; see `cli`.

fn main() -> std::process::ExitCode {
    heaplab_autograder::cli::main()
}
