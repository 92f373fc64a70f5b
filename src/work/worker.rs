//! One worker process, seen from the app: started on first use, restarted after a timeout
//! or a crash, killed when dropped (or by a [`Killer`] from another thread).

use super::Task;
use super::protocol::{self, Answer as Wire};
use crate::decode::{Refusal, RefusalCode};
use crate::error::{Error, Result};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A task's answer for one item: its response and blob, or why the item is refused.
pub type Answer<T> = std::result::Result<(<T as Task>::Response, Vec<u8>), Refusal>;

type Frame = (Vec<u8>, Vec<u8>);

struct Proc {
    child: Arc<Mutex<Option<Child>>>,
    stdin: ChildStdin,
    answers: Receiver<Frame>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub struct Worker {
    exe: PathBuf,
    timeout: Duration,
    max_blob: u64,
    proc: Option<Proc>,
    /// The running process, shared with killers.
    child: Arc<Mutex<Option<Child>>>,
}

/// Kills a worker's process from another thread (the viewer abandons a decode nobody wants
/// any more). The worker's call in flight then returns, and its next call starts a new one.
#[derive(Clone)]
pub struct Killer(Arc<Mutex<Option<Child>>>);

impl Killer {
    pub fn kill(&self) {
        if let Some(c) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = c.kill();
        }
    }
}

impl Worker {
    /// A worker whose every call may take at most `timeout`.
    pub fn new(exe: &Path, timeout: Duration) -> Worker {
        Worker { exe: exe.to_path_buf(), timeout, max_blob: 256 << 20, proc: None, child: Arc::new(Mutex::new(None)) }
    }

    /// Answers with a blob larger than this are taken as a confused worker (default 256 MiB;
    /// the viewer raises it to what its pixel limit allows).
    pub fn with_max_blob(mut self, bytes: u64) -> Worker {
        self.max_blob = bytes;
        self
    }

    pub fn killer(&self) -> Killer {
        Killer(self.child.clone())
    }

    fn start(&self) -> Result<Proc> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg(super::WORKER_ARG).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        #[cfg(windows)]
        {
            // No console window flashing up for each worker of the GUI app.
            use std::os::windows::process::CommandExt;
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            cmd.creation_flags(CREATE_NO_WINDOW);
        }
        let mut child = cmd.spawn().map_err(|e| Error::io("cannot start a worker process", e, &self.exe))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, answers) = channel();
        let max_blob = self.max_blob;
        std::thread::Builder::new()
            .name("worker-reader".into())
            .spawn(move || {
                let mut r = BufReader::with_capacity(1 << 16, stdout);
                while let Some(frame) = protocol::read_answer(&mut r, max_blob) {
                    if tx.send(frame).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Error::io("cannot start a thread", e, &self.exe))?;
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        Ok(Proc { child: self.child.clone(), stdin, answers })
    }

    /// Sends one request of task `T` and waits (at most the time limit) for its answer.
    /// The outer error means no worker could run at all (the job cannot go on); the inner
    /// one is this item's refusal: a timeout, a crash, or the task's own refusal.
    pub fn call<T: Task>(&mut self, req: &T::Request) -> Result<Answer<T>> {
        self.call_within::<T>(req, self.timeout)
    }

    pub fn call_within<T: Task>(&mut self, req: &T::Request, timeout: Duration) -> Result<Answer<T>> {
        if self.proc.is_none() {
            self.proc = Some(self.start()?);
        }
        let proc = self.proc.as_mut().expect("started above");
        let json = serde_json::to_vec(req).map_err(|e| Error::Invalid(format!("cannot encode a request: {e}")))?;
        if protocol::write_request(&mut proc.stdin, T::NAME, &json).is_err() {
            return Ok(Err(self.crashed()));
        }
        match proc.answers.recv_timeout(timeout) {
            Ok((json, blob)) => match serde_json::from_slice::<Wire<T::Response>>(&json) {
                Ok(Wire::Ok(r)) => Ok(Ok((r, blob))),
                Ok(Wire::Err(r)) => Ok(Err(r)),
                Err(e) => {
                    self.proc = None;
                    Ok(Err(Refusal::new(RefusalCode::Crashed, format!("the worker answered nonsense ({e})"))))
                }
            },
            Err(RecvTimeoutError::Timeout) => {
                self.proc = None; // dropping kills it
                Ok(Err(Refusal::new(
                    RefusalCode::Timeout,
                    format!("it took longer than the limit of {:.1} s", timeout.as_secs_f64()),
                )))
            }
            Err(RecvTimeoutError::Disconnected) => Ok(Err(self.crashed())),
        }
    }

    fn crashed(&mut self) -> Refusal {
        // Reaped here for its exit status; dropping the process afterwards is then a no-op.
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        let status = child.and_then(|mut c| c.wait().ok());
        self.proc = None;
        let how = status.map(|s| s.to_string()).unwrap_or_else(|| "unknown status".into());
        Refusal::new(RefusalCode::Crashed, format!("the worker process died on this file ({how})"))
    }
}
