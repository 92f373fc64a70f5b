//! Grid thumbnails as textures: loaded from the thumbnail cache by background threads, newest
//! request first (so fast scrolling never queues up work for rows long gone), kept in a
//! bounded LRU so GPU and RAM use stay flat with 100,000 photos.

use crate::store::ThumbDb;
use egui::{ColorImage, TextureHandle, TextureOptions};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Textures kept at most (a 256-px thumbnail is about 200 KB).
const CAPACITY: usize = 800;
/// Requests kept at most; older ones are dropped (they scrolled away).
const QUEUE: usize = 256;
/// A thumbnail not in the cache yet (an import is still making it) is asked for again after this.
const RETRY: Duration = Duration::from_secs(2);

type Loaded = (String, Option<ColorImage>);

struct Queue {
    items: Mutex<VecDeque<String>>,
    ready: Condvar,
}

pub struct ThumbCache {
    textures: HashMap<String, (TextureHandle, u64)>,
    clock: u64,
    pending: HashSet<String>,
    absent: HashMap<String, Instant>,
    queue: Arc<Queue>,
    done: Receiver<Loaded>,
}

impl ThumbCache {
    pub fn new(cache: PathBuf, ctx: &egui::Context, threads: usize) -> ThumbCache {
        let queue = Arc::new(Queue { items: Mutex::new(VecDeque::new()), ready: Condvar::new() });
        let (tx, done) = channel::<Loaded>();
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let tx: Sender<Loaded> = tx.clone();
            let ctx = ctx.clone();
            let cache = cache.clone();
            let spawned = std::thread::Builder::new().name(format!("thumb-loader-{i}")).spawn(move || {
                // Opened on first use: the cache file may not exist until an import makes it.
                let mut db: Option<ThumbDb> = None;
                loop {
                    let job = {
                        let mut q = queue.items.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if let Some(j) = q.pop_front() {
                                break j;
                            }
                            q = queue.ready.wait(q).unwrap_or_else(|e| e.into_inner());
                        }
                    };
                    let hash = job;
                    if db.is_none() && cache.exists() {
                        db = ThumbDb::open(&cache).ok();
                    }
                    let img = db.as_ref().and_then(|db| load(db, &hash));
                    if tx.send((hash, img)).is_err() {
                        return; // the cache is gone: the app closed
                    }
                    ctx.request_repaint();
                }
            });
            if spawned.is_err() {
                break;
            }
        }
        ThumbCache { textures: HashMap::new(), clock: 0, pending: HashSet::new(), absent: HashMap::new(), queue, done }
    }

    /// The texture for a photo, or None while it loads (it is then requested).
    pub fn get(&mut self, hash: &str) -> Option<TextureHandle> {
        self.clock += 1;
        if let Some((tex, used)) = self.textures.get_mut(hash) {
            *used = self.clock;
            return Some(tex.clone());
        }
        if self.pending.contains(hash) || self.absent.get(hash).is_some_and(|t| t.elapsed() < RETRY) {
            return None;
        }
        self.pending.insert(hash.to_owned());
        let mut q = self.queue.items.lock().unwrap_or_else(|e| e.into_inner());
        q.push_front(hash.to_owned());
        while q.len() > QUEUE {
            if let Some(old) = q.pop_back() {
                self.pending.remove(&old);
            }
        }
        drop(q);
        self.queue.ready.notify_one();
        None
    }

    /// Uploads what the loaders finished, and evicts the least recently used textures.
    pub fn poll(&mut self, ctx: &egui::Context) {
        while let Ok((hash, img)) = self.done.try_recv() {
            self.pending.remove(&hash);
            match img {
                Some(img) => {
                    let tex = ctx.load_texture(format!("thumb-{hash}"), img, TextureOptions::LINEAR);
                    self.textures.insert(hash, (tex, self.clock));
                }
                None => {
                    self.absent.insert(hash, Instant::now());
                }
            }
        }
        if self.textures.len() > CAPACITY {
            let mut by_age: Vec<(u64, String)> = self.textures.iter().map(|(h, (_, t))| (*t, h.clone())).collect();
            by_age.sort_unstable();
            for (_, h) in by_age.into_iter().take(self.textures.len() - CAPACITY * 3 / 4) {
                self.textures.remove(&h);
            }
        }
    }

    /// Whether the photo has no cached thumbnail (as opposed to one still loading).
    pub fn is_absent(&self, hash: &str) -> bool {
        self.absent.contains_key(hash)
    }

    pub fn absent_count(&self) -> usize {
        self.absent.len()
    }

    /// Forgets that thumbnails were absent (after a thumbnail job or import wrote new ones).
    pub fn retry_absent(&mut self) {
        self.absent.clear();
    }

    /// Textures held now (the browser benchmark reports it).
    pub fn loaded(&self) -> usize {
        self.textures.len()
    }

    /// Nothing requested is still loading (tests wait for this).
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }
}

fn load(db: &ThumbDb, hash: &str) -> Option<ColorImage> {
    let bytes = db.get(hash).ok()??;
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).ok()?.to_rgb8();
    Some(ColorImage::from_rgb([img.width() as usize, img.height() as usize], img.as_raw()))
}
