//! The library's integration tests: the services over both backends (the embedded store, and
//! DynamoDB, SQS, S3, Scheduler and Secrets Manager through the SDK against moto), the pager
//! adapters against the vendors' specs (Prism), and the README's layout. One module per file.

mod alerts;
mod common;
mod jira;
mod lake;
mod nags;
mod page_outcomes;
mod pager_prism;
mod props;
mod queue;
mod readme_layout;
mod reports;
mod scheduler;
mod secrets;
mod sev_report;
mod statuspage;
mod store_contract;
mod stored_records;
mod time_zones;
