//! What the store says about the photo on screen, for a panel that follows it (details,
//! chart facts, timeline): asked again on the store thread when the photo changes, drawn
//! when the answer comes; an answer for a photo no longer on screen is dropped.

use crate::store::thread::Pending;

pub struct PhotoAnswer<T: Send + 'static> {
    want: Option<i64>,
    loading: Option<(i64, Pending<Option<T>>)>,
    /// The photo answered for, and the answer (None: the store has nothing for it).
    pub shown: Option<(i64, Option<T>)>,
    pub error: Option<String>,
    /// Read the photo again at the next `follow` (it changed).
    stale: bool,
}

impl<T: Send + 'static> Default for PhotoAnswer<T> {
    fn default() -> Self {
        PhotoAnswer { want: None, loading: None, shown: None, error: None, stale: false }
    }
}

impl<T: Send + 'static> PhotoAnswer<T> {
    /// Takes an answer that came, and asks about `want` (with `ask`) when it changed.
    pub fn follow(&mut self, want: Option<i64>, ask: impl FnOnce(i64) -> Pending<Option<T>>) {
        if let Some((_, p)) = &self.loading
            && p.ready().is_some()
        {
            let (id, p) = self.loading.take().expect("checked above");
            match p.block_and_take() {
                Ok(found) if Some(id) == self.want => {
                    self.shown = Some((id, found));
                    self.error = None;
                }
                Ok(_) => {}
                Err(e) => self.error = Some(e),
            }
        }
        if want == self.want && !self.stale {
            return;
        }
        // The same photo read again keeps its answer on screen until the new one comes.
        if want != self.want {
            self.shown = None;
        }
        self.want = want;
        self.stale = false;
        if let Some(id) = want {
            self.loading = Some((id, ask(id)));
        }
    }

    /// Reads the shown photo again (after it changed). The photo stays the one followed:
    /// the grid keeps its focus on it through a refresh (`App::grid_changed` asks `want`).
    pub fn reload(&mut self) {
        self.stale = true;
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// The photo shown (or being read).
    pub fn want(&self) -> Option<i64> {
        self.want
    }

    /// The answer for the photo shown, when the store had one.
    pub fn value(&self) -> Option<&T> {
        self.shown.as_ref().and_then(|(_, v)| v.as_ref())
    }
}
