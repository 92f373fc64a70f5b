//! Decoder worker processes.
//!
//! Every decoder reads untrusted bytes. Running them in a child process (`dermdesk
//! __decode-worker`, the same executable) means a file that hangs a decoder is cut off by a
//! per-file time limit, and one that crashes it (abort, stack overflow, out of memory) costs
//! a refusal and a fresh worker, never the import. Requests are JSON lines; each answer is a
//! frame: two little-endian u32 lengths, the JSON, then the thumbnail's JPEG bytes (so that
//! one writer in the parent stores thumbnails, instead of every worker contending for the
//! cache file).

use super::format::{Refusal, RefusalCode};
use super::probe::{self, Probe, Request};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

/// The hidden subcommand that turns the executable into a worker.
pub const WORKER_ARG: &str = "__decode-worker";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Ok(Probe),
    Err(Refusal),
}

/// The worker's main loop: one request per line on stdin, one answer per line on stdout.
/// Returns when stdin closes (the parent finished or died).
pub fn serve() -> i32 {
    // Panics are answered as refusals; keep them off the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    // Deeply nested or recursive formats get a big stack rather than an overflow.
    let handle = std::thread::Builder::new().stack_size(64 << 20).spawn(|| {
        let stdin = std::io::stdin();
        let mut stdout = std::io::stdout().lock();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { return 1 };
            let (answer, thumb) = match serde_json::from_str::<Request>(&line) {
                Err(e) => (Answer::Err(Refusal::new(RefusalCode::Corrupt, format!("bad worker request: {e}"))), None),
                Ok(req) => match std::panic::catch_unwind(|| probe::probe(&req)) {
                    Ok(Ok((p, thumb))) => (Answer::Ok(p), thumb.map(|t| t.jpeg)),
                    Ok(Err(r)) => (Answer::Err(r), None),
                    Err(panic) => {
                        let msg = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "unknown".into());
                        let r = Refusal::new(RefusalCode::Corrupt, format!("the decoder failed on this file ({msg})"));
                        (Answer::Err(r), None)
                    }
                },
            };
            let Ok(json) = serde_json::to_vec(&answer) else { return 1 };
            let thumb = thumb.unwrap_or_default();
            let mut frame = Vec::with_capacity(8 + json.len() + thumb.len());
            frame.extend_from_slice(&(json.len() as u32).to_le_bytes());
            frame.extend_from_slice(&(thumb.len() as u32).to_le_bytes());
            frame.extend_from_slice(&json);
            frame.extend_from_slice(&thumb);
            if stdout.write_all(&frame).and_then(|_| stdout.flush()).is_err() {
                return 1;
            }
        }
        0
    });
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => 1,
    }
}

/// A worker's verdict on one file: what it found and the thumbnail it made, or why the
/// file is refused.
pub type Answered = std::result::Result<(Probe, Option<Vec<u8>>), Refusal>;

/// One answer off the pipe: the JSON and the thumbnail bytes (empty when none).
type Frame = (Vec<u8>, Vec<u8>);

/// Answers larger than this are nonsense (a thumbnail is tens of kilobytes).
const MAX_FRAME_PART: usize = 64 << 20;

struct Proc {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<Frame>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One worker process, started on first use and restarted after a timeout or crash.
pub struct Worker {
    exe: PathBuf,
    timeout: Duration,
    proc: Option<Proc>,
}

impl Worker {
    pub fn new(exe: &Path, timeout: Duration) -> Worker {
        Worker { exe: exe.to_path_buf(), timeout, proc: None }
    }

    fn start(&self) -> Result<Proc> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg(WORKER_ARG).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        #[cfg(windows)]
        {
            // No console window flashing up for each worker of the GUI app.
            use std::os::windows::process::CommandExt;
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            cmd.creation_flags(CREATE_NO_WINDOW);
        }
        let mut child = cmd.spawn().map_err(|e| Error::io("cannot start a decoder worker", e, &self.exe))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, answers) = channel();
        std::thread::Builder::new()
            .name("decode-worker-reader".into())
            .spawn(move || {
                let mut r = BufReader::new(stdout);
                loop {
                    let mut head = [0u8; 8];
                    if r.read_exact(&mut head).is_err() {
                        break;
                    }
                    let json_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
                    let thumb_len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
                    if json_len > MAX_FRAME_PART || thumb_len > MAX_FRAME_PART {
                        break; // the worker is confused: treat it as crashed
                    }
                    let (mut json, mut thumb) = (vec![0u8; json_len], vec![0u8; thumb_len]);
                    if r.read_exact(&mut json).and_then(|_| r.read_exact(&mut thumb)).is_err() {
                        break;
                    }
                    if tx.send((json, thumb)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Error::io("cannot start a thread", e, &self.exe))?;
        Ok(Proc { child, stdin, answers })
    }

    /// Sends one request. The outer error means no worker could run at all (the import
    /// cannot go on); the inner one is this file's refusal. A thumbnail, when one was asked
    /// for and made, comes back as JPEG bytes.
    pub fn call(&mut self, req: &Request) -> Result<Answered> {
        if self.proc.is_none() {
            self.proc = Some(self.start()?);
        }
        let proc = self.proc.as_mut().expect("started above");
        let line = serde_json::to_string(req).map_err(|e| Error::Invalid(format!("cannot encode a request: {e}")))?;
        if writeln!(proc.stdin, "{line}").and_then(|_| proc.stdin.flush()).is_err() {
            return Ok(Err(self.crashed()));
        }
        match proc.answers.recv_timeout(self.timeout) {
            Ok((answer, thumb)) => match serde_json::from_slice::<Answer>(&answer) {
                Ok(Answer::Ok(p)) => Ok(Ok((p, (!thumb.is_empty()).then_some(thumb)))),
                Ok(Answer::Err(r)) => Ok(Err(r)),
                Err(e) => {
                    self.proc = None;
                    Ok(Err(Refusal::new(RefusalCode::Crashed, format!("the decoder answered nonsense ({e})"))))
                }
            },
            Err(RecvTimeoutError::Timeout) => {
                self.proc = None; // dropping kills it
                Ok(Err(Refusal::new(
                    RefusalCode::Timeout,
                    format!("decoding took longer than the limit of {:.1} s", self.timeout.as_secs_f64()),
                )))
            }
            Err(RecvTimeoutError::Disconnected) => Ok(Err(self.crashed())),
        }
    }

    fn crashed(&mut self) -> Refusal {
        // Reaped here for its exit status; dropping the process afterwards is then a no-op.
        let status = self.proc.take().and_then(|mut p| p.child.wait().ok());
        let how = status.map(|s| s.to_string()).unwrap_or_else(|| "unknown status".into());
        Refusal::new(RefusalCode::Crashed, format!("the decoder process died on this file ({how})"))
    }
}

/// The executable to run workers from: this one, unless told otherwise (tests point at the
/// built `dermdesk` binary, since a test harness is not one).
pub fn default_exe() -> PathBuf {
    std::env::var_os("DERMDESK_WORKER_EXE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| PathBuf::from("dermdesk"))
}
