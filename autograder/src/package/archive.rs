//! Archives of a tree: tar, tar.gz and zip, byte-for-byte reproducible (sorted
//! entries, one fixed timestamp, modes 0644 or 0755 only).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::io;
use crate::Fatal;

/// 2020-01-01T00:00:00Z: every entry's modification time.
const MTIME: u64 = 1_577_836_800;

#[derive(Clone, Debug, Default)]
pub struct Entries(Vec<Entry>);

#[derive(Clone, Debug)]
struct Entry {
    path: String,
    bytes: Vec<u8>,
    executable: bool,
}

impl Entries {
    /// Every file under `root`, named `<prefix>/<path>`.
    pub fn from_dir(root: &Path, prefix: &str) -> Result<Self, Fatal> {
        let mut entries = Entries::default();
        entries.add_dir(root, root, prefix)?;
        entries.0.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    fn add_dir(&mut self, root: &Path, dir: &Path, prefix: &str) -> Result<(), Fatal> {
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
            if meta.is_dir() {
                self.add_dir(root, &path, prefix)?;
            } else if meta.is_file() {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                self.0.push(Entry {
                    path: format!("{prefix}/{rel}"),
                    bytes: std::fs::read(&path).map_err(|e| io(&path, e))?,
                    executable: meta.permissions().mode() & 0o111 != 0,
                });
            }
        }
        Ok(())
    }

    /// Adds (or replaces) one file.
    pub fn file(&mut self, path: &str, bytes: Vec<u8>, executable: bool) {
        self.0.retain(|e| e.path != path);
        self.0.push(Entry {
            path: path.to_string(),
            bytes,
            executable,
        });
        self.0.sort_by(|a, b| a.path.cmp(&b.path));
    }

    pub fn tar(&self) -> Result<Vec<u8>, Fatal> {
        let mut builder = tar::Builder::new(Vec::new());
        for e in &self.0 {
            let mut header = tar::Header::new_gnu();
            header.set_size(e.bytes.len() as u64);
            header.set_mode(if e.executable { 0o755 } else { 0o644 });
            header.set_mtime(MTIME);
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, &e.path, e.bytes.as_slice())
                .map_err(|err| Fatal::new(format!("cannot archive {}: {err}", e.path)))?;
        }
        builder
            .into_inner()
            .map_err(|e| Fatal::new(format!("cannot finish a tar archive: {e}")))
    }

    pub fn tar_gz(&self) -> Result<Vec<u8>, Fatal> {
        let tar = self.tar()?;
        let mut gz = flate2::GzBuilder::new()
            .mtime(MTIME as u32)
            .write(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar)
            .and_then(|()| gz.finish())
            .map_err(|e| Fatal::new(format!("cannot compress an archive: {e}")))
    }

    pub fn zip(&self) -> Result<Vec<u8>, Fatal> {
        let fail =
            |e: &dyn std::fmt::Display| Fatal::new(format!("cannot write a zip archive: {e}"));
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let time = zip::DateTime::from_date_and_time(2020, 1, 1, 0, 0, 0).map_err(|e| fail(&e))?;
        for e in &self.0 {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(time)
                .unix_permissions(if e.executable { 0o755 } else { 0o644 });
            zip.start_file(e.path.as_str(), options)
                .map_err(|e| fail(&e))?;
            zip.write_all(&e.bytes).map_err(|e| fail(&e))?;
        }
        Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
    }
}
