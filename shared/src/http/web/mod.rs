//! The web UI: server-rendered pages over the same application services as Slack and the API,
//! so the tool works fully when Slack is down. Plain forms, no JavaScript needed.

mod actions;
mod error;
mod form;
mod pages;
mod report;
mod reports;
mod weekly;

use crate::domain::Actor;
use crate::http::{AppState, Caller};

/// The name a web action is recorded under: the signed-in person, else [`Actor::WEB`].
fn web_actor(caller: &Caller) -> Actor {
    caller.actor(None, Actor::WEB).unwrap_or(Actor::WEB)
}

pub fn routes() -> axum::Router<AppState> {
    pages::routes()
        .merge(actions::routes())
        .merge(report::routes())
        .merge(reports::routes())
        .merge(weekly::routes())
}
