//! The black-box suite: the real `sevtool` binary (and Alertmanager, Chromium) from the outside,
//! one module per surface or concern. The shared harness and fakes are the `blackbox` library
//! (`support/`).

mod alertmanager;
mod alerts;
mod api;
mod auth;
mod browser;
mod crash;
mod fakes;
mod fuzz;
mod hardening;
mod jira;
mod logs;
mod nags;
mod paging;
mod reports;
mod sev_report;
mod slack;
mod socket_mode;
mod statuspage;
mod system_packages;
mod transfer;
mod web;
