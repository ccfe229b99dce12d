//! An in-memory [`RateLimitStore`] that keeps counters and gates as the SQL stores do, for the
//! unit tests of `throttle` and `login`.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::store::{CounterDelta, RateLimitStore, StoreError};
use crate::time::UnixTime;

/// Counters (key → window start, count) and gates (key → opening time).
#[derive(Debug, Default)]
pub struct Db(
    pub Mutex<HashMap<String, (UnixTime, u64)>>,
    pub Mutex<HashMap<String, UnixTime>>,
);

#[async_trait]
impl RateLimitStore for Db {
    async fn hit(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError> {
        let totals = self
            .add(&[CounterDelta {
                key: key.to_owned(),
                window_start,
                count: 1,
            }])
            .await?;
        Ok(totals[0])
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }

    async fn add(&self, deltas: &[CounterDelta]) -> Result<Vec<u64>, StoreError> {
        let mut rows = self.0.lock().unwrap();
        Ok(deltas
            .iter()
            .map(|d| {
                let row = rows.entry(d.key.clone()).or_insert((d.window_start, 0));
                if row.0 < d.window_start {
                    *row = (d.window_start, 0);
                }
                if row.0 == d.window_start {
                    row.1 += d.count;
                    row.1
                } else {
                    0
                }
            })
            .collect())
    }

    async fn count(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError> {
        let rows = self.0.lock().unwrap();
        Ok(rows
            .get(key)
            .filter(|row| row.0 == window_start)
            .map_or(0, |row| row.1))
    }

    async fn pass_gate(
        &self,
        key: &str,
        now: UnixTime,
        close_until: UnixTime,
    ) -> Result<Option<UnixTime>, StoreError> {
        let mut gates = self.1.lock().unwrap();
        match gates.get(key) {
            Some(open_at) if *open_at > now => Ok(Some(*open_at)),
            _ => {
                gates.insert(key.to_owned(), close_until);
                Ok(None)
            }
        }
    }
}
