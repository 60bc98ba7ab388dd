//! Slack: the signed inbound routes (acknowledge fast, act from the queue), and the integration
//! that turns SEV changes into channels, announcements and cross-posts.

mod catch_up;
mod client;
pub mod command;
mod handler;
mod inbound;
mod messages;
mod naming;
mod paging;
mod report_posts;
mod reports;
mod routes;
mod settings;
mod signature;
mod state;
mod time_zones;

pub use client::{BotToken, SlackClient, SlackError, SlackMessage};
pub use handler::SlackIntegration;
pub use inbound::Inbound;
pub use routes::{SlackRoutes, router};
pub use settings::{Reaction, Reactions, SlackSettings};
pub use signature::{MAX_SKEW_SECS, SignatureError, SigningSecret};
pub use state::{SlackSev, SlackState};
pub use time_zones::SlackTimeZones;
