#!/usr/bin/perl
# heaplab @LESSON@ grader for Inkfish (written by `grade package`).
#
# Inkfish unpacks this archive, then the submission, then this archive again,
# and runs `perl test.pl` in that folder, scoring the TAP it prints. This
# script unpacks the grader tree afresh from heaplab-grader.tar (so no file
# of the submission stands in for one of the grader's), builds the student's
# src/ with the grader's own tests, offline, and prints TAP: one plan line,
# one test line per point, every other line starting with "# ".
use strict;
use warnings;
use Cwd qw(getcwd);
use File::Copy qw(copy);
use File::Path qw(remove_tree make_path);

my $LESSON = '@LESSON@';
my $POINTS = @POINTS@;

my $home = getcwd();
my $work = "$home/.heaplab";
my $tree = "$work/heaplab";

# Anything else the grader prints becomes a TAP comment.
sub diag {
    my ($text) = @_;
    print "# $_\n" for split /\n/, $text;
}

# The last 40 lines of a file, or nothing.
sub tail_of {
    my ($path) = @_;
    open my $in, '<', $path or return '';
    my @lines = <$in>;
    close $in;
    splice @lines, 0, @lines - 40 if @lines > 40;
    return join '', @lines;
}

# Nothing could be graded: every point is lost, and the reason is shown.
sub zero {
    my ($why) = @_;
    print "1..$POINTS\n";
    diag($why);
    print "not ok $_ - $LESSON was not graded\n" for 1 .. $POINTS;
    exit 0;
}

# Cargo and rustup read settings from the folders above the one they run
# in: a submission must not bring its own.
remove_tree("$home/.cargo", $work);
unlink "$home/rust-toolchain", "$home/rust-toolchain.toml";
make_path("$work/tmp", "$work/cargo-home");
system('tar', '-xf', "$home/heaplab-grader.tar", '-C', $work) == 0
    or zero("could not unpack heaplab-grader.tar");

# /tmp is small on Inkfish: temporary files go to the working folder.
$ENV{TMPDIR} = "$work/tmp";
$ENV{CARGO_HOME} = "$work/cargo-home";
$ENV{CARGO_NET_OFFLINE} = 'true';
$ENV{CARGO_TERM_COLOR} = 'never';
# The home holds 512 MB: no incremental caches, no debug info.
$ENV{CARGO_INCREMENTAL} = '0';
$ENV{CARGO_PROFILE_DEV_DEBUG} = '0';
delete $ENV{$_} for qw(CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTC_WRAPPER HEAPLAB_MANIFEST);
# A build folder kept between runs, where a host offers one (the kit's own
# tests share one between bundles); Inkfish sets none, and every run builds
# afresh in the home.
my $shared = $ENV{HEAPLAB_TARGET_DIR};
$ENV{CARGO_TARGET_DIR} = $shared if defined $shared && length $shared;
# A toolchain installed the rustup way, as in the heaplab Dockerfile; `su -`
# leaves it off PATH.
for my $bin ('/usr/local/cargo/bin', "$ENV{HOME}/.cargo/bin") {
    $ENV{PATH} = "$bin:$ENV{PATH}" if -x "$bin/cargo";
}
$ENV{RUSTUP_HOME} //= '/usr/local/rustup' if -d '/usr/local/rustup';

chdir $tree or zero("no grader tree in $tree");
my $log = `cargo build --offline --quiet -p heaplab-autograder --bin grade 2>&1`;
$? == 0 or zero("the grader did not build (a problem with the grading image, not the submission):\n$log");
# Only the binary is needed from that build: its dependencies leave room
# in the home for the checker's and the student's builds (a shared build
# folder keeps them).
my $grade = "$work/grade";
if (defined $ENV{CARGO_TARGET_DIR}) {
    copy("$ENV{CARGO_TARGET_DIR}/debug/grade", $grade) && chmod(0755, $grade)
        or zero("the grader's binary is missing: $!");
} else {
    rename("$tree/target/debug/grade", $grade) or zero("the grader's binary is missing: $!");
    remove_tree("$tree/target/debug");
}

my $crate = `"$grade" locate $LESSON "$home" 2>&1`;
$? == 0 or zero($crate);
chomp $crate;
diag("grading $crate");

# The grader writes its TAP to a file it renames into place once the grade
# is done; only a grader that finished (exit 0: full marks, 1: points lost)
# is believed, and only that file is read: nothing printed on the way, by
# the grader or by anything it ran, can stand in for a report.
my $report = "$work/report.tap";
unlink $report;
system(qq{"$grade" $LESSON --submission "$crate" --include-hidden --offline --format tap }
    . qq{--output "$report" >"$work/stdout.txt" 2>"$work/stderr.txt"});
my $status = $?;
if ($status == -1 || ($status & 127) || ($status >> 8) > 1) {
    my $how = $status == -1 ? "it did not start: $!"
        : ($status & 127) ? 'it was killed by signal ' . ($status & 127)
        : 'exit status ' . ($status >> 8);
    zero("the grader could not grade this submission ($how):\n" . tail_of("$work/stderr.txt"));
}
open my $in, '<', $report or zero("the grader finished but wrote no report:\n" . tail_of("$work/stderr.txt"));
my $tap = do { local $/; <$in> };
close $in;
$tap =~ /^1\.\.\d+$/m or zero("the grader's report has no TAP plan:\n" . tail_of("$work/stderr.txt"));
# Keep what is TAP; anything else (there should be nothing) as a comment.
for my $line (split /\n/, $tap) {
    if ($line =~ /^(?:1\.\.\d+|(?:ok|not ok)\s+\d+\s+(?:-\s+)?.*|#.*)$/) {
        print "$line\n";
    } else {
        print "# $line\n";
    }
}
