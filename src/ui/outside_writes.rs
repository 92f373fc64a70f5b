//! Writes by another process reach the open app: the command line's `infer`, `review` or
//! `link`, a script, a second window. While the app runs no job of its own it asks SQLite's
//! `data_version` on the store thread's connection about once a second (a number that changes
//! when another connection commits, not for this connection's own writes); a change reloads
//! what the panels show. The app's own jobs reload their panels when they end.

use crate::store::thread::{Pending, StoreThread};
use std::time::{Duration, Instant};

/// How often the app asks while idle.
pub const EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct OutsideWrites {
    seen: Option<i64>,
    asking: Option<Pending<i64>>,
    /// When it last asked (the first question goes at once: the number seen at start).
    asked: Option<Instant>,
}

impl OutsideWrites {
    /// True once when another connection has committed since the last answer (never on the
    /// first answer). Asks again when `idle` and a second has passed.
    pub fn poll(&mut self, store: &StoreThread, idle: bool) -> bool {
        if let Some(p) = &self.asking
            && let Some(answer) = p.ready()
        {
            let now = answer.as_ref().ok().copied();
            self.asking = None;
            let changed = matches!((self.seen, now), (Some(a), Some(b)) if a != b);
            self.seen = now.or(self.seen);
            return changed;
        }
        if idle && self.asking.is_none() && self.asked.is_none_or(|t| t.elapsed() >= EVERY) {
            self.asked = Some(Instant::now());
            self.asking = Some(store.ask(|s| s.data_version()));
        }
        false
    }
}
