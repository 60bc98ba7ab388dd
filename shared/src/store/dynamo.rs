//! The AWS backend: one DynamoDB table, one DynamoDB item per `Item`.
//!
//! DynamoDB deletes expired items lazily (up to days late), so every condition and every read
//! treats an item whose `ttl` has passed as absent, exactly as the embedded backend does.

use std::collections::HashMap;
use std::error::Error;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{BuildError, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};

use super::{Condition, Index, Item, Key, Query, SortKey, Store, StoreError, Write, now_epoch};

const PK: &str = "pk";
const SK: &str = "sk";
const GSI1: &str = "gsi1";
const GSI1PK: &str = "gsi1pk";
const GSI1SK: &str = "gsi1sk";
const GSI2: &str = "gsi2";
const GSI2PK: &str = "gsi2pk";
const GSI2SK: &str = "gsi2sk";
const VERSION: &str = "v";
const TTL: &str = "ttl";
const DATA: &str = "data";

/// Stands in for a key attribute that a malformed item lacks, so the error can still say which
/// item it was.
const MISSING: &str = "<missing>";

/// Creating a table with two indexes takes DynamoDB well under a minute; this is generous.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// Creates the table and its indexes and turns on TTL. A table that already exists is left
    /// as it is, so tests and local tooling can call this unconditionally.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attributes = [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK]
            .into_iter()
            .map(|name| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_failed)?;
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attributes))
            .set_key_schema(Some(key_schema(PK, SK)?))
            .global_secondary_indexes(global_index(GSI1, GSI1PK, GSI1SK)?)
            .global_secondary_indexes(global_index(GSI2, GSI2PK, GSI2SK)?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if matches!(e.as_service_error(), Some(CreateTableError::ResourceInUseException(_))) => {
                // Whoever created it enables TTL; waiting still matters, because a concurrent
                // caller may have only just started creating it.
                return self.wait_until_active().await;
            }
            Err(e) => return Err(backend("CreateTable", e)),
        }
        // DynamoDB refuses to change TTL on a table that is still being created.
        self.wait_until_active().await?;
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL)
            .enabled(true)
            .build()
            .map_err(build_failed)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| backend("UpdateTimeToLive", e))?;
        Ok(())
    }

    async fn wait_until_active(&self) -> Result<(), StoreError> {
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(TABLE_ACTIVE_TIMEOUT)
            .await
            .map_err(|e| {
                StoreError::Backend(format!(
                    "waiting for DynamoDB table {} failed: {}",
                    self.table,
                    crate::aws_error::chain(&e)
                ))
            })?;
        Ok(())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", e))?;
        let Some(attrs) = out.item else {
            return Ok(None);
        };
        let item = from_attrs(attrs)?;
        Ok(is_live(&item, now_epoch()).then_some(item))
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let guard = Guard::new(condition, now_epoch());
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)))
            .set_condition_expression(guard.expression)
            .set_expression_attribute_names(guard.names)
            .set_expression_attribute_values(guard.values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => StoreError::ConditionFailed,
                // A transaction held the item: nothing was written, so retrying is safe.
                Some(PutItemError::TransactionConflictException(_)) => StoreError::TransactionConflict,
                _ => backend("PutItem", e),
            }),
        }
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let guard = Guard::new(condition, now_epoch());
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(guard.expression)
            .set_expression_attribute_names(guard.names)
            .set_expression_attribute_values(guard.values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => StoreError::ConditionFailed,
                // A transaction held the item: nothing was written, so retrying is safe.
                Some(DeleteItemError::TransactionConflictException(_)) => StoreError::TransactionConflict,
                _ => backend("DeleteItem", e),
            }),
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // DynamoDB rejects an empty transaction, while for us it is trivially all-or-nothing.
        if writes.is_empty() {
            return Ok(());
        }
        let now = now_epoch();
        let items = writes
            .iter()
            .map(|w| transact_item(&self.table, w, now))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(e) = result else {
            return Ok(());
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = e.as_service_error()
            && let Some(err) = cancellation(cancelled.cancellation_reasons())
        {
            return Err(err);
        }
        Err(backend("TransactWriteItems", e))
    }

    async fn query(&self, q: &Query) -> Result<Vec<Item>, StoreError> {
        let limit = q.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (index_name, pk_attr, sk_attr) = match q.index {
            Index::Primary => (None, PK, SK),
            Index::Gsi1 => (Some(GSI1), GSI1PK, GSI1SK),
            Index::Gsi2 => (Some(GSI2), GSI2PK, GSI2SK),
        };
        let mut expression = String::from("#pk = :pk");
        let mut names = HashMap::from([("#pk".to_owned(), pk_attr.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(q.pk.clone()))]);
        // DynamoDB rejects empty strings as key values in a condition, and no stored key can be
        // empty; the ranges those would express are rewritten to mean the same without them.
        let sk_condition = match &q.sk {
            SortKey::Any => None,
            SortKey::Prefix(p) if p.is_empty() => None,
            SortKey::Prefix(p) => {
                values.insert(":p".to_owned(), AttributeValue::S(p.clone()));
                Some("begins_with(#sk, :p)")
            }
            // DynamoDB rejects an inverted range rather than matching nothing.
            SortKey::Between(a, b) if a > b || b.is_empty() => return Ok(Vec::new()),
            SortKey::Between(a, b) if a.is_empty() => {
                values.insert(":b".to_owned(), AttributeValue::S(b.clone()));
                Some("#sk <= :b")
            }
            SortKey::Between(a, b) => {
                values.insert(":a".to_owned(), AttributeValue::S(a.clone()));
                values.insert(":b".to_owned(), AttributeValue::S(b.clone()));
                Some("#sk BETWEEN :a AND :b")
            }
        };
        if let Some(condition) = sk_condition {
            names.insert("#sk".to_owned(), sk_attr.to_owned());
            expression.push_str(" AND ");
            expression.push_str(condition);
        }

        let now = now_epoch();
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index_name.map(str::to_owned))
                .key_condition_expression(&expression)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!q.descending)
                // Secondary indexes only support eventually consistent reads.
                .consistent_read(index_name.is_none())
                // Only an upper bound: expired items still count against DynamoDB's limit.
                .set_limit(i32::try_from(limit - items.len()).ok())
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            for attrs in page.items.unwrap_or_default() {
                let item = from_attrs(attrs)?;
                if is_live(&item, now) {
                    items.push(item);
                    if items.len() == limit {
                        return Ok(items);
                    }
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

/// A condition expression together with exactly the placeholders it uses: DynamoDB rejects a
/// request that defines names or values its expressions do not use.
struct Guard {
    expression: Option<String>,
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl Guard {
    fn new(condition: Condition, now: i64) -> Self {
        let now_value = (":now".to_owned(), number(now));
        let (expression, names, values) = match condition {
            Condition::Always => {
                return Guard {
                    expression: None,
                    names: None,
                    values: None,
                };
            }
            Condition::NotExists => (
                "attribute_not_exists(#pk) OR #ttl <= :now",
                HashMap::from([("#pk".to_owned(), PK.to_owned()), ("#ttl".to_owned(), TTL.to_owned())]),
                HashMap::from([now_value]),
            ),
            Condition::Version(v) => (
                "#v = :v AND (attribute_not_exists(#ttl) OR #ttl > :now)",
                HashMap::from([
                    ("#v".to_owned(), VERSION.to_owned()),
                    ("#ttl".to_owned(), TTL.to_owned()),
                ]),
                HashMap::from([(":v".to_owned(), number(v)), now_value]),
            ),
        };
        Guard {
            expression: Some(expression.to_owned()),
            names: Some(names),
            values: Some(values),
        }
    }
}

fn transact_item(table: &str, write: &Write, now: i64) -> Result<TransactWriteItem, StoreError> {
    Ok(match write {
        Write::Put(item, condition) => {
            let guard = Guard::new(*condition, now);
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(to_attrs(item)))
                .set_condition_expression(guard.expression)
                .set_expression_attribute_names(guard.names)
                .set_expression_attribute_values(guard.values)
                .build()
                .map_err(build_failed)?;
            TransactWriteItem::builder().put(put).build()
        }
        Write::Delete(key, condition) => {
            let guard = Guard::new(*condition, now);
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key_attrs(key)))
                .set_condition_expression(guard.expression)
                .set_expression_attribute_names(guard.names)
                .set_expression_attribute_values(guard.values)
                .build()
                .map_err(build_failed)?;
            TransactWriteItem::builder().delete(delete).build()
        }
    })
}

/// Reads why DynamoDB cancelled a transaction; `None` when the reasons are neither a conflict
/// nor failed conditions, which callers cannot act on.
fn cancellation(reasons: &[CancellationReason]) -> Option<StoreError> {
    let is = |reason: &CancellationReason, code: &str| reason.code() == Some(code);
    // A conflict wins over failed conditions: the conditions were checked against a state that
    // another transaction was changing, so they say nothing reliable until the retry.
    if reasons.iter().any(|r| is(r, "TransactionConflict")) {
        return Some(StoreError::TransactionConflict);
    }
    let failed: Vec<usize> = reasons
        .iter()
        .enumerate()
        .filter(|(_, r)| is(r, "ConditionalCheckFailed"))
        .map(|(i, _)| i)
        .collect();
    (!failed.is_empty()).then_some(StoreError::TransactionCancelled { failed })
}

fn is_live(item: &Item, now: i64) -> bool {
    item.expires_at.is_none_or(|at| at > now)
}

fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn to_attrs(item: &Item) -> HashMap<String, AttributeValue> {
    let mut attrs = key_attrs(&item.key);
    let indexes = [(GSI1PK, GSI1SK, &item.gsi1), (GSI2PK, GSI2SK, &item.gsi2)];
    for (pk, sk, entry) in indexes {
        if let Some(entry) = entry {
            attrs.insert(pk.to_owned(), AttributeValue::S(entry.pk.clone()));
            attrs.insert(sk.to_owned(), AttributeValue::S(entry.sk.clone()));
        }
    }
    attrs.insert(VERSION.to_owned(), number(item.version));
    if let Some(at) = item.expires_at {
        attrs.insert(TTL.to_owned(), number(at));
    }
    attrs.insert(DATA.to_owned(), AttributeValue::S(item.data.clone()));
    attrs
}

fn from_attrs(mut attrs: HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let pk = take_string(&mut attrs, PK);
    let sk = take_string(&mut attrs, SK);
    let key = match (pk, sk) {
        (Ok(Some(pk)), Ok(Some(sk))) => Key::new(pk, sk),
        (pk, sk) => {
            let shown =
                |part: Result<Option<String>, String>| part.ok().flatten().unwrap_or_else(|| MISSING.to_owned());
            let key = Key::new(shown(pk), shown(sk));
            return Err(StoreError::Corrupt(key, "pk and sk must both be strings".to_owned()));
        }
    };
    item_fields(&key, &mut attrs).map_err(|reason| StoreError::Corrupt(key, reason))
}

fn item_fields(key: &Key, attrs: &mut HashMap<String, AttributeValue>) -> Result<Item, String> {
    Ok(Item {
        key: key.clone(),
        gsi1: take_index_entry(attrs, GSI1PK, GSI1SK)?,
        gsi2: take_index_entry(attrs, GSI2PK, GSI2SK)?,
        version: take_number(attrs, VERSION)?.ok_or_else(|| format!("{VERSION} is missing"))?,
        expires_at: take_number(attrs, TTL)?,
        data: take_string(attrs, DATA)?.ok_or_else(|| format!("{DATA} is missing"))?,
    })
}

/// An index entry is both attributes or neither: we never write half of one.
fn take_index_entry(attrs: &mut HashMap<String, AttributeValue>, pk: &str, sk: &str) -> Result<Option<Key>, String> {
    match (take_string(attrs, pk)?, take_string(attrs, sk)?) {
        (Some(pk), Some(sk)) => Ok(Some(Key { pk, sk })),
        (None, None) => Ok(None),
        _ => Err(format!("{pk} and {sk} must be present together")),
    }
}

fn take_string(attrs: &mut HashMap<String, AttributeValue>, name: &str) -> Result<Option<String>, String> {
    match attrs.remove(name) {
        None => Ok(None),
        Some(AttributeValue::S(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{name} is not a string")),
    }
}

fn take_number<T: FromStr>(attrs: &mut HashMap<String, AttributeValue>, name: &str) -> Result<Option<T>, String> {
    match attrs.remove(name) {
        None => Ok(None),
        Some(AttributeValue::N(n)) => n
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} is not an integer in range: {n}")),
        Some(_) => Err(format!("{name} is not a number")),
    }
}

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn key_schema(pk: &str, sk: &str) -> Result<Vec<KeySchemaElement>, StoreError> {
    [(pk, KeyType::Hash), (sk, KeyType::Range)]
        .into_iter()
        .map(|(name, key_type)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_failed)
}

fn global_index(name: &str, pk: &str, sk: &str) -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(key_schema(pk, sk)?))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(build_failed)
}

fn backend<E: Error + 'static>(operation: &str, e: SdkError<E, HttpResponse>) -> StoreError {
    StoreError::Backend(crate::aws_error::describe("DynamoDB", operation, &e))
}

fn build_failed(e: BuildError) -> StoreError {
    StoreError::Backend(format!("building a DynamoDB request failed: {e}"))
}
