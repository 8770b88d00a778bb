//! A lesson's extra builds (`[[lesson.build]]` in `course.toml`): the crate
//! under test as a C shared library, and Rust programs that use it, built
//! in release before any test runs, so that no test builds anything (and a
//! grading server builds them offline, from its vendored crates).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use heaplab_protocol::manifest::{Build, BuildKind};

use super::cargo::{self, CargoRun};
use super::paths::Shown;
use super::project::{package_name, subject_crate, toml_str, workspace_profile, write_project};
use super::subject::students_errors;
use super::{BuildOptions, Variant};
use crate::course::{Course, Lesson};
use crate::Fatal;

/// Builds every extra build of `lesson`; `Ok(Err(errors))` when the crate
/// under test does not compile for one of them.
pub fn build(
    course: &Course,
    lesson: &Lesson,
    variant: &Variant,
    heaplab: &Path,
    shown: &Shown,
    opts: &BuildOptions,
) -> Result<Result<BTreeMap<String, PathBuf>, String>, Fatal> {
    let mut built = BTreeMap::new();
    let release = heaplab.join(format!("release-{}-{}", lesson.id, variant.slug()));
    let subject = heaplab.join(format!("{}-{}", lesson.id, variant.slug()));
    for extra in &lesson.builds {
        // Each build its own target folder: the library and a program that
        // links the crate would otherwise write the same cdylib file (its
        // name has no hash), the last build's features winning.
        let target = release.join(&extra.name);
        let ctx = Ctx {
            course,
            lesson,
            variant,
            release: &target,
            shown,
            opts,
        };
        let made = match extra.kind {
            BuildKind::Cdylib => library(&ctx, extra, &subject)?,
            BuildKind::Program => program(&ctx, extra, heaplab)?,
            BuildKind::Files => Ok(files(&ctx, extra)?),
        };
        match made {
            Ok(path) => built.insert(extra.name.clone(), path),
            Err(errors) => return Ok(Err(errors)),
        };
    }
    Ok(Ok(built))
}

struct Ctx<'a> {
    course: &'a Course,
    lesson: &'a Lesson,
    variant: &'a Variant,
    release: &'a Path,
    shown: &'a Shown,
    opts: &'a BuildOptions,
}

impl Ctx<'_> {
    fn package(&self) -> String {
        let fallback = match self.variant {
            Variant::Solution => self.lesson.solution_package(),
            _ => self.lesson.package(),
        };
        package_name(&self.shown.crate_dir, fallback)
    }

    /// The made file, or the student's errors, or the kit's.
    fn result(
        &self,
        run: &CargoRun,
        project: &Path,
        file: Option<PathBuf>,
        what: &str,
    ) -> Result<Result<PathBuf, String>, Fatal> {
        if run.success {
            return file.map(Ok).ok_or_else(|| {
                Fatal::new(format!("cargo built {what} but made no file (kit bug)"))
            });
        }
        students_errors(
            run,
            &self.shown.crate_dir,
            project,
            self.variant,
            self.shown,
        )
        .map(Err)
    }
}

/// The crate under test as a C shared library, with the build's features:
/// built in its own workspace (the course's), or, for a submission, in the
/// subject's project, where the staged crate is a member.
fn library(ctx: &Ctx, extra: &Build, subject: &Path) -> Result<Result<PathBuf, String>, Fatal> {
    let package = ctx.package();
    let features = extra.features.join(",");
    let (manifest, cwd) = match ctx.variant {
        Variant::Submission(_) => (subject.join("Cargo.toml"), subject.to_path_buf()),
        _ => (
            ctx.shown.crate_dir.join("Cargo.toml"),
            ctx.shown.crate_dir.clone(),
        ),
    };
    let manifest = manifest.to_string_lossy().into_owned();
    let mut args = vec![
        "--release",
        "--lib",
        "-p",
        &package,
        "--manifest-path",
        &manifest,
    ];
    if !features.is_empty() {
        args.extend(["--features", &features]);
    }
    let what = format!("crates of {package} as a C library");
    let run = cargo::build(&args, ctx.release, &cwd, ctx.course, ctx.opts, &what)?;
    let target = package.replace('-', "_");
    let file = run.file(&target, |f| f.extension().is_some_and(|e| e == "so"));
    ctx.result(&run, subject, file, &format!("{package} as a C library"))
}

/// A Rust program (one file of the course) that depends on the crate under
/// test as `student`.
fn program(ctx: &Ctx, extra: &Build, heaplab: &Path) -> Result<Result<PathBuf, String>, Fatal> {
    let source = extra.source.as_deref().ok_or_else(|| {
        Fatal::new(format!(
            "course.toml: the build `{}` of {} is a program but names no `source`",
            extra.name, ctx.lesson.id
        ))
    })?;
    let path = ctx.course.root.join(source);
    let main = std::fs::read_to_string(&path)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", path.display())))?;
    let dir = heaplab.join(format!(
        "{}-{}-{}",
        ctx.lesson.id,
        ctx.variant.slug(),
        extra.name
    ));
    let name = format!("heaplab-program-{}", extra.name);
    let manifest = format!(
        "# Generated by heaplab's `grade` from {source}.\n\
         [package]\nname = {name}\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nstudent = {{ path = {student}, package = {package} }}\nlibc = \"0.2\"\n\
         heaplab-traces = {{ path = {traces} }}\n\n\
         [workspace]\n{profile}",
        name = toml_str(&name),
        student = toml_str(&ctx.shown.crate_dir.to_string_lossy()),
        package = toml_str(&ctx.package()),
        traces = toml_str(&traces_crate(ctx.course).to_string_lossy()),
        profile = workspace_profile(ctx.course),
    );
    write_project(ctx.course, &dir, &manifest, &main)?;
    let manifest_path = dir.join("Cargo.toml").to_string_lossy().into_owned();
    let run = cargo::build(
        &["--release", "--manifest-path", &manifest_path],
        ctx.release,
        &dir,
        ctx.course,
        ctx.opts,
        &format!("crates of the program {source}"),
    )?;
    let file = run.file(&name, |f| f.file_name().is_some_and(|n| *n == *name));
    ctx.result(&run, &dir, file, &format!("the program {source}"))
}

/// The kit's `heaplab-traces` crate, next to the subject crate.
fn traces_crate(course: &Course) -> PathBuf {
    let subject = subject_crate(course);
    let traces = subject.with_file_name("traces");
    std::fs::canonicalize(&traces).unwrap_or(traces)
}

/// A file or folder of the course, as it is.
fn files(ctx: &Ctx, extra: &Build) -> Result<PathBuf, Fatal> {
    let source = extra.source.as_deref().ok_or_else(|| {
        Fatal::new(format!(
            "course.toml: the build `{}` of {} is files but names no `source`",
            extra.name, ctx.lesson.id
        ))
    })?;
    let path = ctx.course.root.join(source);
    std::fs::canonicalize(&path).map_err(|e| {
        Fatal::new(format!(
            "course.toml: the build `{}` of {} names {}, which cannot be read ({e}); \
             create it or fix `source`",
            extra.name,
            ctx.lesson.id,
            path.display()
        ))
    })
}
