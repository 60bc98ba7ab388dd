//! Small records on `SevRepo` that integrations keep under keys of their own (see `keys`).

use serde::{Deserialize, Serialize};

use super::{RepoError, SevRepo, from_item, to_json};
use crate::store::{Condition, Index, Item, Key, Query, SortKey, StoreError};

impl SevRepo {
    /// A small record an integration keeps under a key of its own (see `keys`).
    pub async fn record<T: for<'de> Deserialize<'de>>(&self, key: &Key) -> Result<Option<T>, RepoError> {
        match self.store.get(key).await? {
            Some(item) => Ok(Some(from_item(&item)?)),
            None => Ok(None),
        }
    }

    pub async fn put_record<T: Serialize>(&self, key: Key, value: &T) -> Result<(), RepoError> {
        Ok(self
            .store
            .put(Item::new(key, to_json(value)), Condition::Always)
            .await?)
    }

    /// Puts a small record only if there is none under `key` yet; `false` when there was.
    pub async fn put_new_record<T: Serialize>(&self, key: Key, value: &T) -> Result<bool, RepoError> {
        match self
            .store
            .put(Item::new(key, to_json(value)), Condition::NotExists)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every small record under one partition key, in sort key order.
    pub async fn records_under<T: for<'de> Deserialize<'de>>(&self, pk: &str) -> Result<Vec<T>, RepoError> {
        self.query_all(&Query::new(Index::Primary, pk, SortKey::Any)).await
    }

    /// Removes a small record; one already gone is not an error.
    pub async fn delete_record(&self, key: &Key) -> Result<(), RepoError> {
        Ok(self.store.delete(key, Condition::Always).await?)
    }
}
