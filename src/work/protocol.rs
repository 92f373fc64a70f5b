//! The pipe between the app and a worker process.
//!
//! Request frame: two little-endian u32 lengths (task name, JSON), the name, the JSON.
//! Answer frame: two little-endian lengths (JSON as u32, blob as u64), the JSON
//! (`{"ok": response}` or `{"err": refusal}`), the blob.

use super::{Ctx, Handler, Task};
use crate::decode::{Refusal, RefusalCode};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Answer<R> {
    Ok(R),
    Err(Refusal),
}

/// Frames larger than this are nonsense whatever the task (a request is a path and options).
const MAX_REQUEST: usize = 16 << 20;

pub(crate) fn write_request(w: &mut impl Write, name: &str, json: &[u8]) -> std::io::Result<()> {
    let mut frame = Vec::with_capacity(8 + name.len() + json.len());
    frame.extend_from_slice(&(name.len() as u32).to_le_bytes());
    frame.extend_from_slice(&(json.len() as u32).to_le_bytes());
    frame.extend_from_slice(name.as_bytes());
    frame.extend_from_slice(json);
    w.write_all(&frame)?;
    w.flush()
}

fn read_request(r: &mut impl Read) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = [0u8; 8];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let name_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let json_len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if name_len > 256 || json_len > MAX_REQUEST {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "oversized request"));
    }
    let mut name = vec![0u8; name_len];
    let mut json = vec![0u8; json_len];
    r.read_exact(&mut name)?;
    r.read_exact(&mut json)?;
    Ok(Some((String::from_utf8_lossy(&name).into_owned(), json)))
}

fn write_answer(w: &mut impl Write, json: &[u8], blob: &[u8]) -> std::io::Result<()> {
    let mut head = [0u8; 12];
    head[..4].copy_from_slice(&(json.len() as u32).to_le_bytes());
    head[4..].copy_from_slice(&(blob.len() as u64).to_le_bytes());
    w.write_all(&head)?;
    w.write_all(json)?;
    w.write_all(blob)?;
    w.flush()
}

/// Reads one answer; `None` when the pipe closed or the frame is out of bounds (the worker
/// is then taken as crashed).
pub(crate) fn read_answer(r: &mut impl Read, max_blob: u64) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head).ok()?;
    let json_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let blob_len = u64::from_le_bytes([head[4], head[5], head[6], head[7], head[8], head[9], head[10], head[11]]);
    if json_len > MAX_REQUEST || blob_len > max_blob {
        return None;
    }
    let mut json = vec![0u8; json_len];
    r.read_exact(&mut json).ok()?;
    let mut blob = vec![0u8; blob_len as usize];
    r.read_exact(&mut blob).ok()?;
    Some((json, blob))
}

fn encode<R: Serialize>(answer: &Answer<R>) -> Vec<u8> {
    serde_json::to_vec(answer).unwrap_or_else(|e| {
        let r = Refusal::new(RefusalCode::Corrupt, format!("the worker could not encode its answer ({e})"));
        serde_json::to_vec(&Answer::<()>::Err(r)).unwrap_or_default()
    })
}

/// Runs one request of task `T` in the worker process: JSON in, JSON and blob out. A panic
/// in the task is this item's refusal, not the worker's end.
pub(crate) fn call<T: Task>(ctx: &mut Ctx, json: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let req: T::Request = match serde_json::from_slice(json) {
        Ok(r) => r,
        Err(e) => {
            let r = Refusal::new(RefusalCode::Corrupt, format!("bad {} request: {e}", T::NAME));
            return (encode(&Answer::<()>::Err(r)), Vec::new());
        }
    };
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| T::run(ctx, req)));
    match ran {
        Ok(Ok(reply)) => (encode(&Answer::Ok(reply.value)), reply.blob),
        Ok(Err(refusal)) => (encode(&Answer::<()>::Err(refusal)), Vec::new()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            let r = Refusal::new(RefusalCode::Corrupt, format!("the decoder failed on this file ({msg})"));
            (encode(&Answer::<()>::Err(r)), Vec::new())
        }
    }
}

pub(crate) fn serve(handlers: &[Handler]) -> i32 {
    // Panics are answered as refusals; keep them off the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    // Deeply nested or recursive formats get a big stack rather than an overflow.
    let handlers: Vec<(&'static str, super::CallFn)> = handlers.iter().map(|h| (h.name, h.call)).collect();
    let handle = std::thread::Builder::new().stack_size(64 << 20).spawn(move || {
        let mut stdin = std::io::BufReader::new(std::io::stdin().lock());
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let mut ctx = Ctx::default();
        loop {
            let (name, json) = match read_request(&mut stdin) {
                Ok(Some(r)) => r,
                Ok(None) => return 0,
                Err(_) => return 1,
            };
            let (answer, blob) = match handlers.iter().find(|(n, _)| *n == name) {
                Some((_, call)) => call(&mut ctx, &json),
                None => {
                    let r = Refusal::new(RefusalCode::Corrupt, format!("the worker has no task named {name:?}"));
                    (encode(&Answer::<()>::Err(r)), Vec::new())
                }
            };
            if write_answer(&mut stdout, &answer, &blob).is_err() {
                return 1;
            }
        }
    });
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bounds_hold() {
        let mut buf = Vec::new();
        write_request(&mut buf, "probe", br#"{"a":1}"#).unwrap();
        let (name, json) = read_request(&mut buf.as_slice()).unwrap().unwrap();
        assert_eq!((name.as_str(), json.as_slice()), ("probe", br#"{"a":1}"#.as_slice()));

        let mut buf = Vec::new();
        write_answer(&mut buf, b"{}", &[7u8; 100]).unwrap();
        let (json, blob) = read_answer(&mut buf.as_slice(), 100).unwrap();
        assert_eq!((json.as_slice(), blob.len()), (b"{}".as_slice(), 100));
        assert!(read_answer(&mut buf.as_slice(), 99).is_none(), "a blob over the bound is refused");
        assert!(read_answer(&mut &buf[..buf.len() - 1], 100).is_none(), "a cut frame is refused");
        assert!(read_request(&mut [].as_slice()).unwrap().is_none(), "end of input ends the loop");
    }
}
