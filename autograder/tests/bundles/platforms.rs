//! Each platform, as it lays out and runs a bundle. Every run is offline;
//! `shared` is a build folder several runs of one test share
//! (`HEAPLAB_TARGET_DIR`), so that only what differs between them builds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::course::{Lesson, Packaged};
use crate::formats;
use crate::run::{copy_dir, fresh, offline, ok, text, unpack, unzip};

fn with_target(cmd: &mut Command, shared: Option<&Path>) -> Output {
    if let Some(dir) = shared {
        cmd.env("HEAPLAB_TARGET_DIR", dir);
    }
    offline(cmd)
}

/// Inkfish: the grader archive, the submission, the grader archive again,
/// then `perl test.pl` in that folder (on one core when `one_core`). Returns
/// Inkfish's score of the TAP (None: it would not parse) and the run.
pub fn inkfish(
    p: &Packaged,
    lesson: &Lesson,
    home: &Path,
    submission: &Path,
    shared: Option<&Path>,
    one_core: bool,
) -> (Option<(usize, usize)>, Output) {
    let archive = p
        .bundles(lesson)
        .join(format!("heaplab-{}-inkfish.tar.gz", lesson.id));
    fresh(home);
    unpack(&archive, home);
    copy_dir(submission, home);
    unpack(&archive, home);
    inkfish_run(home, shared, one_core)
}

/// `perl test.pl` in an Inkfish home laid out already.
pub fn inkfish_run(
    home: &Path,
    shared: Option<&Path>,
    one_core: bool,
) -> (Option<(usize, usize)>, Output) {
    let mut cmd = if one_core {
        let mut c = Command::new("taskset");
        c.args(["-c", "0", "perl", "test.pl"]);
        c
    } else {
        let mut c = Command::new("perl");
        c.arg("test.pl");
        c
    };
    let run = with_target(cmd.current_dir(home), shared);
    let tap = String::from_utf8_lossy(&run.stdout).into_owned();
    (formats::inkfish_score(&tap), run)
}

/// A Gradescope autograder: the zip unpacked in `<root>/source`.
pub struct Gradescope {
    pub root: PathBuf,
}

impl Gradescope {
    /// Unpacks the zip; `setup` runs setup.sh as Gradescope's image build does.
    pub fn install(p: &Packaged, lesson: &Lesson, root: &Path, setup: Option<&Path>) -> Self {
        fresh(&root.join("source"));
        let zip = p
            .bundles(lesson)
            .join(format!("heaplab-{}-gradescope.zip", lesson.id));
        unzip(&zip, &root.join("source"));
        let gs = Gradescope {
            root: root.to_path_buf(),
        };
        if let Some(shared) = setup {
            let source = gs.root.join("source");
            let run = with_target(
                Command::new("bash")
                    .arg(source.join("setup.sh"))
                    .current_dir(&source),
                Some(shared),
            );
            assert!(run.status.success(), "setup.sh: {}", text(&run));
        }
        gs
    }

    pub fn tree(&self) -> PathBuf {
        self.root.join("source/heaplab")
    }

    /// Grades `submission` (its files become /autograder/submission):
    /// Gradescope's score of results.json, the file, and the run.
    pub fn grade(
        &self,
        submission: &Path,
        shared: Option<&Path>,
    ) -> (Result<f64, String>, Value, Output) {
        fresh(&self.root.join("submission"));
        let _ = fs::remove_dir_all(self.root.join("results"));
        copy_dir(submission, &self.root.join("submission"));
        let run = with_target(
            Command::new("bash")
                .arg(self.root.join("source/run_autograder"))
                .env("HEAPLAB_GRADESCOPE_ROOT", &self.root)
                .current_dir(&self.root),
            shared,
        );
        let results = fs::read_to_string(self.root.join("results/results.json"))
            .unwrap_or_else(|e| panic!("no results.json ({e}): {}", text(&run)));
        let json: Value = serde_json::from_str(&results)
            .unwrap_or_else(|e| panic!("results.json is not JSON ({e}): {results}"));
        (formats::gradescope_score(&json), json, run)
    }
}

/// Autolab: autograde-Makefile (as Makefile), autograde.tar and the handin
/// (`submission` packed as handin.tar) in a fresh `dir`; `make`. `tar`
/// replaces the bundle's autograde.tar when given. Returns Autolab's reading
/// of the last line, and the output.
pub fn autolab(
    p: &Packaged,
    lesson: &Lesson,
    dir: &Path,
    submission: &Path,
    shared: Option<&Path>,
    tar: Option<&Path>,
) -> (Result<BTreeMap<String, f64>, String>, String) {
    let bundles = p.bundles(lesson);
    fresh(dir);
    fs::copy(
        bundles.join("autolab/autograde-Makefile"),
        dir.join("Makefile"),
    )
    .unwrap();
    let tar = tar.map_or_else(|| bundles.join("autolab/autograde.tar"), Path::to_path_buf);
    fs::copy(tar, dir.join("autograde.tar")).unwrap();
    ok(Command::new("tar")
        .arg("-cf")
        .arg(dir.join("handin.tar"))
        .arg("-C")
        .arg(submission)
        .arg("."));
    let make = with_target(Command::new("make").arg("-s").current_dir(dir), shared);
    let stdout = String::from_utf8_lossy(&make.stdout).into_owned();
    (formats::autolab_scores(&stdout), text(&make))
}

/// A PrairieLearn external grader: the bundle unpacked in `bundle`, its
/// grader tree moved to `<image>/heaplab` as the Dockerfile copies it to
/// `/heaplab`.
pub struct PrairieLearn {
    pub bundle: PathBuf,
    pub image: PathBuf,
    /// Stands for `/grade`.
    pub grade: PathBuf,
}

impl PrairieLearn {
    /// Unpacks the bundle; `setup` runs the image's build step (the
    /// Dockerfile's `RUN`), checked to be what the Dockerfile says.
    pub fn install(
        p: &Packaged,
        lesson: &Lesson,
        dir: &Path,
        image: &Path,
        setup: Option<&Path>,
    ) -> Self {
        fresh(dir);
        fresh(image);
        let name = format!("heaplab-{}-prairielearn", lesson.id);
        unpack(&p.bundles(lesson).join(format!("{name}.tar.gz")), dir);
        let pl = PrairieLearn {
            bundle: dir.join(&name),
            image: image.to_path_buf(),
            grade: dir.join("grade"),
        };
        let dockerfile = fs::read_to_string(pl.bundle.join("Dockerfile")).unwrap();
        assert!(
            dockerfile.contains("\nCOPY heaplab /heaplab\n"),
            "{dockerfile}"
        );
        assert!(
            dockerfile.contains("\nRUN bash /heaplab/prairielearn-setup.sh\n"),
            "{dockerfile}"
        );
        fs::rename(pl.bundle.join("heaplab"), pl.tree()).unwrap();
        if let Some(shared) = setup {
            let run = with_target(
                Command::new("bash").arg(pl.tree().join("prairielearn-setup.sh")),
                Some(shared),
            );
            assert!(
                run.status.success(),
                "prairielearn-setup.sh: {}",
                text(&run)
            );
        }
        pl
    }

    pub fn tree(&self) -> PathBuf {
        self.image.join("heaplab")
    }

    /// The question's info.json.
    pub fn info(&self) -> Value {
        let text = fs::read_to_string(self.bundle.join("question/info.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Grades the files in `student` as a job: `/grade/student` holds them,
    /// the entry point runs, `/grade/results/results.json` is read.
    pub fn grade(
        &self,
        student: &Path,
        shared: Option<&Path>,
    ) -> (Result<Option<f64>, String>, Value, Output) {
        fresh(&self.grade);
        copy_dir(student, &self.grade.join("student"));
        crate::run::write(&self.grade.join("data/data.json"), "{}\n");
        fs::create_dir_all(self.grade.join("tests")).unwrap();
        let entry = self.info()["externalGradingOptions"]["entrypoint"]
            .as_str()
            .unwrap()
            .to_string();
        let entry = self.tree().join(
            entry
                .strip_prefix("/heaplab/")
                .expect("an entry point in /heaplab"),
        );
        let run = with_target(
            Command::new(&entry).env("HEAPLAB_PRAIRIELEARN_ROOT", &self.grade),
            shared,
        );
        let bytes = fs::read(self.grade.join("results/results.json"))
            .unwrap_or_else(|e| panic!("no results.json ({e}): {}", text(&run)));
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (formats::prairielearn_score(&bytes), json, run)
    }
}
