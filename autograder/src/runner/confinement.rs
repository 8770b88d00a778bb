//! Which layers of confinement the student's processes get on this machine,
//! as the grader reports it (the checker applies them): probed with the
//! program that will run, in a scratch folder like a test's.

use std::path::Path;

use heaplab_protocol::confinement::Confinement;
use heaplab_sandbox::Spec;

/// The layers for `subject` on this machine, or why none can be set up.
pub fn probe(subject: &Path, memory_bytes: u64) -> Result<Confinement, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    // The probe's processes run as a slot's user too: leased like a test's.
    let lease = heaplab_sandbox::slot::Lease::take();
    let spec = Spec {
        subject: subject.to_path_buf(),
        scratch: scratch.path().to_path_buf(),
        memory_bytes,
        slot: lease.slot(),
    };
    heaplab_sandbox::give_scratch(&spec)
        .map_err(|e| format!("cannot give the scratch folder to the student's user: {e}"))?;
    let allowed = heaplab_sandbox::allowed(&spec)?;
    Ok(heaplab_sandbox::confinement(allowed, memory_bytes))
}

/// The line the reports show.
pub fn line(confinement: &Result<Confinement, String>) -> String {
    match confinement {
        Ok(c) => c.summary(),
        Err(why) => format!("cannot be set up on this machine: {why}"),
    }
}
