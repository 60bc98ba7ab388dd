//! DynamoDB capacity units from the recorded traffic, by DynamoDB's published rules, because
//! moto's `ConsumedCapacity` is a constant per operation (1.0 for any write, whatever its size):
//!
//! - a write costs 1 WCU per started KB of the larger of the old and new item; in a transaction,
//!   2 per KB; a delete costs the deleted item's size; a failed condition still costs the write;
//! - each global secondary index the old or new item appears in costs the same again (a changed
//!   index key: a delete plus a put), non-transactionally;
//! - a strongly consistent read costs 1 RCU per started 4 KB (a query: of all items together),
//!   an eventually consistent one half; a read that finds nothing still costs one unit.
//!
//! The proxy sees every item written, so old sizes are known for items written during the run.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

/// One DynamoDB call as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub op: String,
    pub request: Value,
    pub response: Value,
    pub ok: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Usage {
    pub requests: usize,
    pub reads: usize,
    /// Items the reads answered: a query's items, a get's one item or none.
    pub items_read: usize,
    pub writes: usize,
    pub wcu: f64,
    pub rcu: f64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        self.reads += other.reads;
        self.items_read += other.items_read;
        self.writes += other.writes;
        self.wcu += other.wcu;
        self.rcu += other.rcu;
    }
}

#[derive(Clone)]
struct Stored {
    size: usize,
    gsi1: Option<String>,
    gsi2: Option<String>,
}

/// Items written so far, by key, so that overwrites and deletes are costed by the old item too.
#[derive(Default)]
pub struct Ledger {
    items: HashMap<String, Stored>,
}

fn attr_str(item: &Value, name: &str) -> Option<String> {
    item[name]["S"].as_str().map(str::to_owned)
}

fn key_of(item: &Value) -> String {
    format!(
        "{}\u{0}{}",
        attr_str(item, "pk").unwrap_or_default(),
        attr_str(item, "sk").unwrap_or_default()
    )
}

/// DynamoDB's item size: attribute names plus values (strings by UTF-8 length, numbers about
/// one byte per two digits plus one, 3 bytes of overhead per list or map and 1 per element).
pub fn item_size(item: &Value) -> usize {
    item.as_object().map_or(0, |attrs| {
        attrs.iter().map(|(name, v)| name.len() + value_size(v)).sum()
    })
}

fn value_size(v: &Value) -> usize {
    let Some((kind, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner
            .as_str()
            .map_or(1, |n| n.trim_start_matches('-').len().div_ceil(2) + 1),
        "B" => inner.as_str().map_or(0, |b| b.len() * 3 / 4),
        "BOOL" | "NULL" => 1,
        "SS" | "NS" | "BS" | "L" => {
            3 + inner.as_array().map_or(0, |a| {
                a.iter()
                    .map(|e| 1 + e.as_str().map_or_else(|| value_size(e), str::len))
                    .sum()
            })
        }
        "M" => {
            3 + inner
                .as_object()
                .map_or(0, |m| m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum())
        }
        _ => 0,
    }
}

fn kb(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

impl Ledger {
    /// The write units of replacing (or deleting, `new` absent) the item at `key`.
    fn write(&mut self, key: String, new: Option<&Value>, factor: f64, apply: bool) -> f64 {
        let old = self.items.get(&key).cloned();
        let new = new.map(|item| Stored {
            size: item_size(item),
            gsi1: attr_str(item, "gsi1pk").map(|pk| pk + &attr_str(item, "gsi1sk").unwrap_or_default()),
            gsi2: attr_str(item, "gsi2pk").map(|pk| pk + &attr_str(item, "gsi2sk").unwrap_or_default()),
        });
        let size = |s: &Option<Stored>| s.as_ref().map_or(0, |s| s.size);
        let table = factor * kb(size(&old).max(size(&new)));
        let mut index = 0.0;
        for pick in [|s: &Stored| s.gsi1.clone(), |s: &Stored| s.gsi2.clone()] {
            let before = old.as_ref().and_then(pick);
            let after = new.as_ref().and_then(pick);
            index += match (before, after) {
                (None, None) => 0.0,
                (Some(a), Some(b)) if a == b => kb(size(&new)),
                (Some(_), Some(_)) => kb(size(&old)) + kb(size(&new)),
                (Some(_), None) => kb(size(&old)),
                (None, Some(_)) => kb(size(&new)),
            };
        }
        if apply {
            match new {
                Some(n) => {
                    self.items.insert(key, n);
                }
                None => {
                    self.items.remove(&key);
                }
            }
        }
        table + index
    }

    /// The usage of one recorded call, remembering what it wrote.
    pub fn cost(&mut self, call: &Call) -> Usage {
        let mut u = Usage {
            requests: 1,
            ..Usage::default()
        };
        let req = &call.request;
        let consistent = req["ConsistentRead"].as_bool().unwrap_or(false);
        let read_units = |bytes: usize| {
            let units = bytes.div_ceil(4096).max(1) as f64;
            if consistent { units } else { units / 2.0 }
        };
        match call.op.as_str() {
            "PutItem" => {
                u.writes = 1;
                u.wcu = self.write(key_of(&req["Item"]), Some(&req["Item"]), 1.0, call.ok);
            }
            "DeleteItem" => {
                u.writes = 1;
                u.wcu = self.write(key_of(&req["Key"]), None, 1.0, call.ok);
            }
            "TransactWriteItems" => {
                u.writes = 1;
                for t in req["TransactItems"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    u.wcu += if t["Put"].is_object() {
                        self.write(key_of(&t["Put"]["Item"]), Some(&t["Put"]["Item"]), 2.0, call.ok)
                    } else if t["Delete"].is_object() {
                        self.write(key_of(&t["Delete"]["Key"]), None, 2.0, call.ok)
                    } else {
                        2.0
                    };
                }
            }
            "GetItem" => {
                u.reads = 1;
                u.items_read = usize::from(call.response["Item"].is_object());
                u.rcu = read_units(item_size(&call.response["Item"]));
            }
            "Query" => {
                u.reads = 1;
                let items = call.response["Items"].as_array().map(Vec::as_slice).unwrap_or_default();
                u.items_read = items.len();
                let bytes = items.iter().map(item_size).sum();
                u.rcu = read_units(bytes);
            }
            _ => {}
        }
        u
    }

    pub fn total(&mut self, calls: &[Call]) -> Usage {
        let mut total = Usage::default();
        for c in calls {
            total.add(&self.cost(c));
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn put(op: &str, item: Value) -> Call {
        let request = if op == "PutItem" {
            json!({ "Item": item })
        } else {
            json!({ "TransactItems": [{ "Put": { "Item": item } }] })
        };
        Call {
            op: op.to_owned(),
            request,
            response: Value::Null,
            ok: true,
        }
    }

    #[test]
    fn sizes_count_names_and_values() {
        assert_eq!(
            item_size(&json!({ "pk": { "S": "SEV#1" }, "v": { "N": "12" } })),
            2 + 5 + 1 + 2
        );
    }

    #[test]
    fn writes_cost_per_started_kb_doubled_in_transactions_plus_indexes() {
        let mut ledger = Ledger::default();
        let big = "x".repeat(1500);
        let item = json!({ "pk": { "S": "a" }, "sk": { "S": "b" }, "data": { "S": big } });
        assert_eq!(ledger.cost(&put("PutItem", item.clone())).wcu, 2.0);
        assert_eq!(ledger.cost(&put("TransactWriteItems", item)).wcu, 4.0);
        let indexed = json!({ "pk": { "S": "c" }, "sk": { "S": "d" }, "gsi1pk": { "S": "m" }, "gsi1sk": { "S": "n" } });
        assert_eq!(ledger.cost(&put("PutItem", indexed)).wcu, 2.0);
    }

    #[test]
    fn reads_cost_per_started_4kb_halved_when_eventually_consistent() {
        let mut ledger = Ledger::default();
        let items: Vec<Value> = (0..3).map(|_| json!({ "data": { "S": "x".repeat(2000) } })).collect();
        let query = |consistent: bool| Call {
            op: "Query".to_owned(),
            request: json!({ "ConsistentRead": consistent }),
            response: json!({ "Items": items }),
            ok: true,
        };
        assert_eq!(ledger.cost(&query(true)).rcu, 2.0);
        assert_eq!(ledger.cost(&query(false)).rcu, 1.0);
    }
}
