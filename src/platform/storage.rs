//! IndexedDB through `rexie`: the history's four object stores, and errors sorted into
//! what the page can tell the user. Values are the byte records of `state::store`.
//!
//! Stores: `ticks` (key: tick time; one record of every module), `rollups` (key:
//! `[module id, span start]`), `alerts` (key: `[time, n]`; one JSON transition each) and
//! `meta` (key: a name; JSON text).

use js_sys::{Array, Uint8Array};
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

/// The database's name on this origin.
const DB_NAME: &str = "redline-history";
/// The schema version; a database of a newer one is left alone (see `StorageError`).
const DB_VERSION: u32 = 1;

/// What went wrong, sorted by what the user can do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageError {
    /// No IndexedDB here (private mode, disabled storage, a sandboxed frame).
    Unavailable(String),
    /// The browser's quota is used up.
    Quota(String),
    /// The database was written by a newer redline.
    Version(String),
    /// Anything else the browser reported.
    Failed(String),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Unavailable(m) => write!(f, "IndexedDB is unavailable: {m}"),
            StorageError::Quota(m) => write!(f, "the browser's storage quota is used up: {m}"),
            StorageError::Version(m) => {
                write!(
                    f,
                    "the stored history is from a newer version of redline: {m}"
                )
            }
            StorageError::Failed(m) => write!(f, "IndexedDB failed: {m}"),
        }
    }
}

impl From<rexie::Error> for StorageError {
    fn from(error: rexie::Error) -> Self {
        // rexie's own message is generic; the cause holds the browser's.
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        if message.contains("QuotaExceeded") {
            StorageError::Quota(message)
        } else if message.contains("VersionError") {
            StorageError::Version(message)
        } else if message.contains("SecurityError") || message.contains("InvalidAccess") {
            StorageError::Unavailable(message)
        } else {
            StorageError::Failed(message)
        }
    }
}

/// An open history database.
pub struct Db {
    rexie: Rexie,
}

/// One write: a tick record, finished rollups, alert transitions and meta entries,
/// committed together.
#[derive(Debug, Default)]
pub struct Batch {
    /// `(tick time, record)`.
    pub ticks: Vec<(f64, Vec<u8>)>,
    /// `(module id, span start, record)`.
    pub rollups: Vec<(u32, f64, Vec<u8>)>,
    /// `(time, JSON)` of each alert transition.
    pub alerts: Vec<(f64, String)>,
    /// `(name, JSON)`.
    pub meta: Vec<(&'static str, String)>,
}

impl Batch {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty()
            && self.rollups.is_empty()
            && self.alerts.is_empty()
            && self.meta.is_empty()
    }
}

/// True when this page can reach IndexedDB at all.
pub fn available() -> Result<(), StorageError> {
    let window = web_sys::window().ok_or_else(|| StorageError::Unavailable("no window".into()))?;
    match js_sys::Reflect::get(&window, &JsValue::from_str("indexedDB")) {
        Ok(factory) if !factory.is_undefined() && !factory.is_null() => Ok(()),
        Ok(_) => Err(StorageError::Unavailable(
            "this browser or page has no indexedDB".into(),
        )),
        Err(error) => Err(StorageError::Unavailable(describe(&error))),
    }
}

fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

impl Db {
    /// Opens (creating or upgrading) the database.
    pub async fn open() -> Result<Db, StorageError> {
        available()?;
        let rexie = Rexie::builder(DB_NAME)
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new("ticks"))
            .add_object_store(ObjectStore::new("rollups"))
            .add_object_store(ObjectStore::new("alerts"))
            .add_object_store(ObjectStore::new("meta"))
            .build()
            .await?;
        Ok(Db { rexie })
    }

    /// Writes a batch in one transaction.
    pub async fn write(&self, batch: Batch) -> Result<(), StorageError> {
        let transaction = self.rexie.transaction(
            &["ticks", "rollups", "alerts", "meta"],
            TransactionMode::ReadWrite,
        )?;
        // Every request is issued before any is awaited: one round of waiting per store.
        let ticks = batch
            .ticks
            .iter()
            .map(|(t, record)| (bytes(record), Some(JsValue::from_f64(*t))));
        transaction.store("ticks")?.put_all(ticks).await?;
        let rollups = batch
            .rollups
            .iter()
            .map(|(id, start, record)| (bytes(record), Some(rollup_key(*id, *start))));
        transaction.store("rollups")?.put_all(rollups).await?;
        // Keyed by time and place in the batch: pruned by time like the rest.
        let alerts = batch.alerts.iter().enumerate().map(|(k, (at, alert))| {
            let key = Array::of2(&JsValue::from_f64(*at), &JsValue::from(k as u32));
            (JsValue::from_str(alert), Some(key.into()))
        });
        transaction.store("alerts")?.put_all(alerts).await?;
        let meta = batch
            .meta
            .iter()
            .map(|(name, value)| (JsValue::from_str(value), Some(JsValue::from_str(name))));
        transaction.store("meta")?.put_all(meta).await?;
        transaction.done().await?;
        Ok(())
    }

    /// A meta entry.
    pub async fn meta(&self, name: &str) -> Result<Option<String>, StorageError> {
        let transaction = self
            .rexie
            .transaction(&["meta"], TransactionMode::ReadOnly)?;
        let value = transaction
            .store("meta")?
            .get(JsValue::from_str(name))
            .await?;
        Ok(value.and_then(|v| v.as_string()))
    }

    /// Tick records with times in `[from, to]`, oldest first; records that are not
    /// bytes come back empty (corrupt).
    pub async fn ticks(&self, from: f64, to: f64) -> Result<Vec<(f64, Vec<u8>)>, StorageError> {
        let transaction = self
            .rexie
            .transaction(&["ticks"], TransactionMode::ReadOnly)?;
        let range = KeyRange::bound(&JsValue::from_f64(from), &JsValue::from_f64(to), None, None)
            .map_err(rexie::Error::from)?;
        let pairs = key_value_pairs(&transaction.store("ticks")?, range).await?;
        Ok(pairs
            .into_iter()
            .map(|(key, value)| (key.as_f64().unwrap_or(f64::NAN), to_vec(&value)))
            .collect())
    }

    /// Stored alert transitions (JSON) at times in `[from, to]`, oldest first; records
    /// that are not text come back empty (corrupt).
    pub async fn alerts(&self, from: f64, to: f64) -> Result<Vec<String>, StorageError> {
        let transaction = self
            .rexie
            .transaction(&["alerts"], TransactionMode::ReadOnly)?;
        let lower = Array::of1(&JsValue::from_f64(from));
        let upper = Array::of2(&JsValue::from_f64(to), &JsValue::from_f64(f64::INFINITY));
        let range = KeyRange::bound(&lower, &upper, None, None).map_err(rexie::Error::from)?;
        let values = transaction
            .store("alerts")?
            .get_all(Some(range), None)
            .await?;
        Ok(values
            .into_iter()
            .map(|value| value.as_string().unwrap_or_default())
            .collect())
    }

    /// One module's rollups with starts in `[from, to]`, oldest first.
    pub async fn rollups(
        &self,
        id: u32,
        from: f64,
        to: f64,
    ) -> Result<Vec<(f64, Vec<u8>)>, StorageError> {
        let transaction = self
            .rexie
            .transaction(&["rollups"], TransactionMode::ReadOnly)?;
        let range = KeyRange::bound(&rollup_key(id, from), &rollup_key(id, to), None, None)
            .map_err(rexie::Error::from)?;
        let pairs = key_value_pairs(&transaction.store("rollups")?, range).await?;
        Ok(pairs
            .into_iter()
            .map(|(key, value)| {
                let start = Array::from(&key).get(1).as_f64().unwrap_or(f64::NAN);
                (start, to_vec(&value))
            })
            .collect())
    }

    /// Deletes ticks before `ticks_before` and, for modules `0..modules`, rollups
    /// starting before `rollups_before` (and alert transitions as old).
    pub async fn prune(
        &self,
        ticks_before: f64,
        rollups_before: f64,
        modules: u32,
    ) -> Result<(), StorageError> {
        let transaction = self
            .rexie
            .transaction(&["ticks", "rollups", "alerts"], TransactionMode::ReadWrite)?;
        let old = KeyRange::upper_bound(&JsValue::from_f64(ticks_before), Some(true))
            .map_err(rexie::Error::from)?;
        transaction.store("ticks")?.delete(range_value(old)).await?;
        let rollups = transaction.store("rollups")?;
        for id in 0..modules {
            let old = KeyRange::bound(
                &rollup_key(id, f64::MIN),
                &rollup_key(id, rollups_before),
                None,
                Some(true),
            )
            .map_err(rexie::Error::from)?;
            rollups.delete(range_value(old)).await?;
        }
        let old = KeyRange::upper_bound(
            &Array::of1(&JsValue::from_f64(rollups_before)).into(),
            Some(true),
        )
        .map_err(rexie::Error::from)?;
        transaction
            .store("alerts")?
            .delete(range_value(old))
            .await?;
        transaction.done().await?;
        Ok(())
    }
}

/// Keys and values in `range`, in key order: two requests (`getAllKeys`, `getAll`)
/// rather than a cursor's round trip per record.
async fn key_value_pairs(
    store: &rexie::Store,
    range: KeyRange,
) -> Result<Vec<(JsValue, JsValue)>, StorageError> {
    let keys = store.get_all_keys(Some(range.clone()), None).await?;
    let values = store.get_all(Some(range), None).await?;
    if keys.len() != values.len() {
        return Err(StorageError::Failed(format!(
            "{} keys but {} values in one range",
            keys.len(),
            values.len()
        )));
    }
    Ok(keys.into_iter().zip(values).collect())
}

fn bytes(record: &[u8]) -> JsValue {
    Uint8Array::from(record).into()
}

fn to_vec(value: &JsValue) -> Vec<u8> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .unwrap_or_default()
}

fn rollup_key(id: u32, start: f64) -> JsValue {
    Array::of2(&JsValue::from(id), &JsValue::from_f64(start)).into()
}

/// A key range as the value `delete` takes (IndexedDB accepts a range there).
fn range_value(range: KeyRange) -> JsValue {
    web_sys::IdbKeyRange::from(range).into()
}

/// Claims the right to write the history for as long as this page lives (the Web
/// Locks API): true for the first tab of this origin to ask, false while another holds
/// it. Where the API is missing, every tab writes (true).
pub async fn claim_writer() -> bool {
    let Some((locks, request)) = lock_request() else {
        return true;
    };
    // The answer arrives through a promise of our own: the request's promise never
    // settles when the lock is granted (it is held until the page goes).
    let mut answer = None;
    let answered = js_sys::Promise::new(&mut |resolve, _| answer = Some(resolve));
    let callback = wasm_bindgen::closure::Closure::once_into_js(move |lock: JsValue| {
        let granted = !lock.is_null() && !lock.is_undefined();
        if let Some(answer) = answer {
            let _ = answer.call1(&JsValue::UNDEFINED, &JsValue::from_bool(granted));
        }
        if granted {
            JsValue::from(js_sys::Promise::new(&mut |_, _| {}))
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &JsValue::from_str("ifAvailable"), &JsValue::TRUE);
    if request
        .call3(&locks, &JsValue::from_str(DB_NAME), &options, &callback)
        .is_err()
    {
        return true;
    }
    wasm_bindgen_futures::JsFuture::from(answered)
        .await
        .ok()
        .and_then(|granted| granted.as_bool())
        .unwrap_or(true)
}

/// Queues for the writer's lock: `granted` runs once another tab holding it has
/// gone (the lock is then held until this page goes). Without the API, nothing runs.
pub fn wait_for_writer(granted: impl FnOnce() + 'static) {
    let Some((locks, request)) = lock_request() else {
        return;
    };
    let callback = wasm_bindgen::closure::Closure::once_into_js(move |_lock: JsValue| {
        granted();
        JsValue::from(js_sys::Promise::new(&mut |_, _| {}))
    });
    let _ = request.call2(&locks, &JsValue::from_str(DB_NAME), &callback);
}

/// `navigator.locks` and its `request` method, where the Web Locks API exists.
fn lock_request() -> Option<(JsValue, js_sys::Function)> {
    let window = web_sys::window()?;
    let navigator = js_sys::Reflect::get(&window, &JsValue::from_str("navigator")).ok()?;
    let locks = js_sys::Reflect::get(&navigator, &JsValue::from_str("locks"))
        .ok()
        .filter(|locks| !locks.is_undefined() && !locks.is_null())?;
    let request = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    Some((locks, request))
}

/// Bytes this origin stores, as the browser estimates them (`navigator.storage`).
pub async fn usage_bytes() -> Option<f64> {
    let window = web_sys::window()?;
    let navigator = js_sys::Reflect::get(&window, &JsValue::from_str("navigator")).ok()?;
    let storage = js_sys::Reflect::get(&navigator, &JsValue::from_str("storage")).ok()?;
    let estimate = js_sys::Reflect::get(&storage, &JsValue::from_str("estimate"))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let promise = estimate
        .call0(&storage)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let result = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    js_sys::Reflect::get(&result, &JsValue::from_str("usage"))
        .ok()?
        .as_f64()
}
