//! Slack: what it sends (over the signed HTTP routes or Socket Mode: acknowledge fast, act from
//! the queue), and the integration that turns SEV changes into channels, announcements and
//! cross-posts.

mod catch_up;
mod client;
pub mod command;
mod handler;
mod inbound;
mod ingress;
mod messages;
mod naming;
mod paging;
mod report_posts;
mod reports;
mod routes;
mod settings;
mod signature;
pub mod socket_mode;
mod state;
mod time_zones;

pub use client::{BotToken, SlackClient, SlackError, SlackMessage};
pub use handler::SlackIntegration;
pub use inbound::Inbound;
pub use ingress::{Answer, Ingress};
pub use routes::{SlackRoutes, router};
pub use settings::{Reaction, Reactions, SlackSettings};
pub use signature::{MAX_SKEW_SECS, SignatureError, SigningSecret};
pub use state::{SlackSev, SlackState};
pub use time_zones::SlackTimeZones;
