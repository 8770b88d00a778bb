//! The checker's handle on the student's process: start it (a zygote in its
//! sandbox), start and end cases, send requests and read replies, with a
//! time limit on every operation, and know how a case ended.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use heaplab_protocol::{
    Channel, Down, PageAnswer, PageRequest, RecvError, Reply, Request, Stopped, Up,
};

use super::config::Config;
use super::output::Tail;
use super::{procfs, sandbox};

/// How many operations' time a starved process may take before it is
/// called hung (see `Subject::recv`).
const STARVED_LIMITS: u32 = 4;

/// Why a request got no reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// How the student's process stopped.
    pub stopped: Stopped,
    /// The last lines it wrote to stderr during the case.
    pub stderr: String,
}

/// Why the student's process could not be started.
#[derive(Debug)]
pub enum StartError {
    /// The kit could not start it (no such program, no processes left…).
    Kit(String),
    /// It started, and died or said nothing before it was ready: the
    /// student's crate's own start-up code.
    Student(Stop),
}

/// A running subject: the zygote in its sandbox, and the case it runs now.
pub struct Subject {
    child: Child,
    channel: Channel,
    stderr: Arc<Mutex<Tail>>,
    stdout: Arc<Mutex<Tail>>,
    /// Bytes of stderr written before the current case began.
    case_mark: u64,
    in_case: bool,
    /// The current case process, once checked to be the zygote's child.
    case_pid: Option<u32>,
    op_limit: Duration,
}

/// How long the zygote may take to start (the student's crate's start-up
/// code runs before it says hello).
const START_LIMIT: Duration = Duration::from_secs(10);

impl Subject {
    /// Starts the subject of `config` and waits for its hello.
    pub fn start(config: &Config) -> Result<Subject, StartError> {
        let (ours, theirs) =
            Channel::pair().map_err(|e| StartError::Kit(format!("no channel: {e}")))?;
        let mut command =
            sandbox::command(config, Some(OwnedFd::from(theirs))).map_err(StartError::Kit)?;
        command
            .arg("--serve")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| {
            StartError::Kit(format!(
                "cannot start the student's process {}: {e}",
                config.subject.display()
            ))
        })?;
        // The child holds its own copy of the socket now.
        drop(command);
        let stdout = drain(child.stdout.take(), config.output_bytes);
        let stderr = drain(child.stderr.take(), config.output_bytes);
        let mut subject = Subject {
            child,
            channel: ours,
            stderr,
            stdout,
            case_mark: 0,
            in_case: false,
            case_pid: None,
            op_limit: config.op_limit,
        };
        match subject
            .channel
            .recv::<Up>(Some(Instant::now() + START_LIMIT))
        {
            Ok(Up::Hello { .. }) => Ok(subject),
            Ok(other) => Err(StartError::Student(
                subject.garbage(format!("{other:?} instead of hello")),
            )),
            Err(RecvError::TimedOut) => {
                let mut stop = subject.hung();
                stop.stopped = Stopped::Hung {
                    after_ms: START_LIMIT.as_millis() as u64,
                };
                Err(StartError::Student(stop))
            }
            Err(RecvError::Garbage(what)) => Err(StartError::Student(subject.garbage(what))),
            Err(_) => Err(StartError::Student(subject.gone())),
        }
    }

    /// The host's process id of the zygote's sandbox.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts a case: a fresh process forked from the zygote.
    pub fn start_case(&mut self) -> Result<(), Stop> {
        self.case_mark = self
            .stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .total();
        self.send(Request::StartCase)?;
        self.in_case = true;
        match self.recv(Instant::now() + self.op_limit.max(Duration::from_secs(2)))? {
            Up::CaseReady { pid } => {
                // The pid is the process's own word: trusted only when the
                // kernel says it is the zygote's child.
                self.case_pid = (procfs::parent(pid).ok() == Some(self.child.id())).then_some(pid);
                Ok(())
            }
            Up::CaseNotStarted { errno } => Err(self.no_case(errno)),
            other => Err(self.garbage(format!("{other:?} instead of a new case"))),
        }
    }

    /// Ends the current case; the case process exits.
    pub fn end_case(&mut self) -> Result<(), Stop> {
        if !self.in_case {
            return Ok(());
        }
        self.send(Request::EndCase)?;
        let ended = self.recv(Instant::now() + self.op_limit)?;
        self.clear_strays();
        match ended {
            Up::CaseEnded { status: 0 } => {
                self.in_case = false;
                Ok(())
            }
            Up::CaseEnded { status } => Err(self.ended(status)),
            other => Err(self.garbage(format!("{other:?} at the end of a case"))),
        }
    }

    /// The current case process's id, as the kernel confirms it.
    pub fn case_pid(&self) -> Option<u32> {
        self.case_pid.filter(|_| self.in_case)
    }

    /// True while a case process runs.
    pub fn in_case(&self) -> bool {
        self.in_case
    }

    /// Sends `request` to the case process and waits for its reply,
    /// answering the page requests it makes meanwhile with `pages`.
    pub fn call(
        &mut self,
        request: Request,
        pages: &mut dyn FnMut(PageRequest) -> PageAnswer,
    ) -> Result<Reply, Stop> {
        self.send(request)?;
        self.next_reply(pages)
    }

    /// [`call`](Self::call) for a request that is many operations in one
    /// (the threads' work): it may take up to `limit` instead of one
    /// operation's time.
    pub fn call_within(
        &mut self,
        limit: Duration,
        request: Request,
        pages: &mut dyn FnMut(PageRequest) -> PageAnswer,
    ) -> Result<Reply, Stop> {
        let longer = limit.max(self.op_limit);
        let one = std::mem::replace(&mut self.op_limit, longer);
        let reply = self.call(request, pages);
        self.op_limit = one;
        reply
    }

    /// The next reply, when the request before asked for two (an
    /// operation and the heap's view after it).
    pub fn next_reply(
        &mut self,
        pages: &mut dyn FnMut(PageRequest) -> PageAnswer,
    ) -> Result<Reply, Stop> {
        let deadline = Instant::now() + self.op_limit;
        loop {
            match self.recv(deadline)? {
                Up::Reply(reply) => return Ok(reply),
                Up::Page(request) => {
                    let answer = pages(request);
                    self.send_down(Down::Page(answer))?;
                }
                Up::CaseEnded { status } => return Err(self.ended(status)),
                other => return Err(self.garbage(format!("{other:?} instead of a reply"))),
            }
        }
    }

    fn send(&mut self, request: Request) -> Result<(), Stop> {
        self.send_down(Down::Request(request))
    }

    fn send_down(&mut self, down: Down) -> Result<(), Stop> {
        if self.channel.send(&down).is_err() {
            return Err(self.gone());
        }
        Ok(())
    }

    /// The next message, by `deadline`. A process that reached the deadline
    /// having used little CPU was starved by a busy machine rather than
    /// looping: it gets more time, up to [`STARVED_LIMITS`] operations'
    /// worth (a lock that never opens uses no CPU either, so it still
    /// shows as a hang, later).
    fn recv(&mut self, deadline: Instant) -> Result<Up, Stop> {
        let (mut deadline, cap) = (deadline, deadline + self.op_limit * STARVED_LIMITS);
        let cpu_before = self.cpu_used();
        loop {
            return match self.channel.recv::<Up>(Some(deadline)) {
                Ok(up) => Ok(up),
                Err(RecvError::TimedOut) if deadline < cap && self.starved(cpu_before) => {
                    deadline = (deadline + self.op_limit).min(cap);
                    continue;
                }
                Err(RecvError::TimedOut) => Err(self.hung()),
                Err(RecvError::Garbage(what)) => Err(self.garbage(what)),
                Err(RecvError::Closed | RecvError::Io(_)) => Err(self.gone()),
            };
        }
    }

    /// CPU time the process doing the work (the case, else the zygote) has
    /// used, if it can be read.
    fn cpu_used(&self) -> Option<Duration> {
        let pid = self.case_pid().unwrap_or(self.child.id());
        procfs::cpu_time(pid).ok()
    }

    /// True when the process used less than half an operation's time of
    /// CPU since `before`: it waited for a CPU, or on something.
    fn starved(&self, before: Option<Duration>) -> bool {
        match (before, self.cpu_used()) {
            (Some(before), Some(now)) => now.saturating_sub(before) < self.op_limit / 2,
            _ => false,
        }
    }

    /// The case process ended with `status`.
    fn ended(&mut self, status: i32) -> Stop {
        self.in_case = false;
        self.clear_strays();
        // Let the drain catch up with the process's last words.
        thread::sleep(Duration::from_millis(5));
        let stderr = self.stderr_tail(self.case_mark);
        Stop {
            stopped: stopped(status, &stderr),
            stderr,
        }
    }

    /// The case did not answer in time: everything is stopped.
    fn hung(&mut self) -> Stop {
        let stderr = self.stderr_tail(self.case_mark);
        self.kill();
        Stop {
            stopped: Stopped::Hung {
                after_ms: self.op_limit.as_millis() as u64,
            },
            stderr,
        }
    }

    /// The zygote itself is gone (killed, or it exited).
    fn gone(&mut self) -> Stop {
        self.in_case = false;
        let stderr = self.stderr_tail(self.case_mark);
        self.kill();
        let status = self.child.wait().map(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.into_raw()
        });
        Stop {
            stopped: stopped(status.unwrap_or(-1), &stderr),
            stderr,
        }
    }

    /// Kills what the case left running (its orphans come back to the
    /// checker): the next case starts with only the zygote.
    fn clear_strays(&self) {
        heaplab_sandbox::sweep::kill_children_but(&[self.child.id() as libc::pid_t]);
    }

    /// The zygote could not fork the case's process: the student's code
    /// has used up its processes (or its memory).
    fn no_case(&mut self, errno: i32) -> Stop {
        self.in_case = false;
        let stderr = self.stderr_tail(self.case_mark);
        Stop {
            stopped: Stopped::Crashed {
                signal: "no process".into(),
                cause: Some(format!(
                    "a new process for the case could not be started ({}): the student's \
                     processes are at their limit; does the code start processes that never end?",
                    std::io::Error::from_raw_os_error(errno)
                )),
            },
            stderr,
        }
    }

    /// The process sent something that is not the protocol.
    fn garbage(&mut self, what: String) -> Stop {
        let stderr = self.stderr_tail(self.case_mark);
        self.kill();
        Stop {
            stopped: Stopped::Crashed {
                signal: "a broken reply".into(),
                cause: Some(format!("the process sent something unreadable: {what}")),
            },
            stderr,
        }
    }

    /// Stops the sandbox and everything in it.
    pub fn kill(&mut self) {
        self.in_case = false;
        sandbox::stop(&mut self.child);
    }

    /// True once the sandbox is gone.
    pub fn is_dead(&self) -> bool {
        sandbox::exited(&self.child)
    }

    /// The last lines of stderr written since byte `mark`.
    pub fn stderr_tail(&self, mark: u64) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lines_since(mark, 12)
    }

    /// Everything kept of stdout and stderr.
    pub fn output(&self) -> (String, String) {
        let out = self.stdout.lock().unwrap_or_else(|p| p.into_inner()).text();
        let err = self.stderr.lock().unwrap_or_else(|p| p.into_inner()).text();
        (out, err)
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads a stream to its end on a thread, keeping what [`Tail`] keeps.
fn drain<R: Read + Send + 'static>(stream: Option<R>, keep: usize) -> Arc<Mutex<Tail>> {
    let tail = Arc::new(Mutex::new(Tail::new(keep)));
    let shared = tail.clone();
    if let Some(mut stream) = stream {
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => shared
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        });
    }
    tail
}

/// How a process with wait status `status` ended; when the watchdog killed
/// it, the watchdog's reason is the cause.
fn stopped(status: i32, stderr: &str) -> Stopped {
    let mut stopped = Stopped::from_wait_status(status, stderr);
    if let (Stopped::Crashed { cause, .. }, Some(why)) = (&mut stopped, sandbox::watchdog_fired()) {
        *cause = Some(why);
    }
    stopped
}
