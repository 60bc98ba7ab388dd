//! The `/sev` slash command's grammar. Pure: text in, command or usage help out.

use crate::domain::{Level, Status, Tag};

use crate::domain::Priority;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/sev` or `/sev new`: open the intake modal.
    OpenModal,
    /// `/sev new SEV1 <title>`: file at once.
    File {
        level: Level,
        title: String,
    },
    Update(String),
    /// `/sev public <text>`: an update for customers.
    Public(String),
    Level(Level),
    Status {
        to: Status,
        reason: Option<String>,
    },
    Page(String),
    Mayday,
    Sca {
        priority: Priority,
        text: String,
    },
    /// `/sev scas`: my open SCAs; `/sev scas overdue`: every overdue one.
    Scas {
        overdue: bool,
    },
    ReportOwner(String),
    Coordinator(String),
    /// `/sev comms @user`: the comms lead.
    CommsLead(String),
    /// `/sev deputy @user` adds a deputy, `/sev deputy remove @user` takes one off.
    Deputy {
        user: String,
        remove: bool,
    },
    Tag(Tag),
    Show,
    Help,
}

impl Command {
    /// Whether the command acts on the SEV of the channel it is typed in.
    pub fn needs_sev_channel(&self) -> bool {
        !matches!(
            self,
            Command::OpenModal | Command::File { .. } | Command::Help | Command::Scas { .. }
        )
    }
}

pub const USAGE: &str = "\
*Filing*
• `/sev` or `/sev new`: open the form to file a SEV
• `/sev new SEV1 checkout returns 5xx`: file at once (levels SEV0, worst, to SEV3)
*In a SEV's channel*
• `/sev update <text>`: post a status update
• `/sev public <text>`: publish an update for customers (comms lead, coordinator or deputies)
• `/sev level SEV0`: change the level
• `/sev mitigated`, `/sev resolved [reason]`, `/sev close`, `/sev reopen`
• `/sev page <team>`, `/sev mayday` (pages every team, after a confirm step)
• `/sev sca must|should|could <text>`: add a corrective action
• `/sev owner @user` (report owner), `/sev coordinator @user`, `/sev comms @user` (comms lead)
• `/sev deputy @user`, `/sev deputy remove @user`: who acts for the coordinator on a call
• `/sev tag system/payments/ledger`
• `/sev status`, `/sev help`
*Anywhere*
• `/sev scas`: your open corrective actions; `/sev scas overdue`: every overdue one";

/// What was wrong with the text, and the usage to show with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n\n{USAGE}", self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// A user as Slack escapes it in command text: `<@U024BE7LH>` or `<@U024BE7LH|alice>`.
fn user(arg: &str, usage: &str) -> Result<String, UsageError> {
    let id = arg
        .strip_prefix("<@")
        .and_then(|r| r.strip_suffix('>'))
        .map(|r| r.split('|').next().unwrap_or(r))
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()));
    match id {
        Some(id) => Ok(id.to_owned()),
        None => err(format!("Mention the person so Slack links them: `{usage}`")),
    }
}

fn rest_required<'a>(rest: &'a str, usage: &str) -> Result<&'a str, UsageError> {
    if rest.is_empty() {
        err(format!("Missing text: `{usage}`"))
    } else {
        Ok(rest)
    }
}

pub fn parse(text: &str) -> Result<Command, UsageError> {
    let text = text.trim();
    let (verb, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim();
    match verb.to_ascii_lowercase().as_str() {
        "" => Ok(Command::OpenModal),
        "new" if rest.is_empty() => Ok(Command::OpenModal),
        "new" => {
            let (level, title) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let Ok(level) = level.parse::<Level>() else {
                return err("Start with the level: `/sev new SEV1 checkout returns 5xx`");
            };
            let title = rest_required(title.trim(), "/sev new SEV1 checkout returns 5xx")?;
            Ok(Command::File {
                level,
                title: title.to_owned(),
            })
        }
        "update" => Ok(Command::Update(rest_required(rest, "/sev update <text>")?.to_owned())),
        "public" => Ok(Command::Public(rest_required(rest, "/sev public <text>")?.to_owned())),
        "level" => rest
            .parse()
            .map(Command::Level)
            .or_else(|_| err("Give a level: `/sev level SEV0` (SEV0 is the worst, SEV3 the least)")),
        "mitigated" | "mitigate" => Ok(Command::Status {
            to: Status::Mitigated,
            reason: None,
        }),
        "resolved" | "resolve" => Ok(Command::Status {
            to: Status::Resolved,
            reason: (!rest.is_empty()).then(|| rest.to_owned()),
        }),
        "close" | "closed" => Ok(Command::Status {
            to: Status::Closed,
            reason: None,
        }),
        "reopen" => Ok(Command::Status {
            to: Status::Open,
            reason: None,
        }),
        "page" => Ok(Command::Page(rest_required(rest, "/sev page <team>")?.to_owned())),
        "mayday" => Ok(Command::Mayday),
        "sca" => {
            let (priority, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let priority = match priority.to_ascii_lowercase().as_str() {
                "must" => Priority::Must,
                "should" => Priority::Should,
                "could" => Priority::Could,
                _ => return err("Give a priority: `/sev sca must|should|could <text>`"),
            };
            let text = rest_required(text.trim(), "/sev sca must <text>")?;
            Ok(Command::Sca {
                priority,
                text: text.to_owned(),
            })
        }
        "owner" => Ok(Command::ReportOwner(user(rest, "/sev owner @user")?)),
        "coordinator" | "atc" => Ok(Command::Coordinator(user(rest, "/sev coordinator @user")?)),
        "comms" => Ok(Command::CommsLead(user(rest, "/sev comms @user")?)),
        "deputy" => {
            let (first, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if first.eq_ignore_ascii_case("remove") {
                Ok(Command::Deputy {
                    user: user(after.trim(), "/sev deputy remove @user")?,
                    remove: true,
                })
            } else {
                Ok(Command::Deputy {
                    user: user(rest, "/sev deputy @user")?,
                    remove: false,
                })
            }
        }
        "tag" => rest.parse().map(Command::Tag).map_err(|e| UsageError(format!("{e}"))),
        "scas" => match rest.to_ascii_lowercase().as_str() {
            "" | "mine" => Ok(Command::Scas { overdue: false }),
            "overdue" => Ok(Command::Scas { overdue: true }),
            _ => err("Use `/sev scas` for yours or `/sev scas overdue` for every overdue one."),
        },
        "status" => Ok(Command::Show),
        "help" => Ok(Command::Help),
        other => err(format!("I don't know `/sev {other}`.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_new_open_the_modal() {
        assert_eq!(parse(""), Ok(Command::OpenModal));
        assert_eq!(parse("  new "), Ok(Command::OpenModal));
    }

    #[test]
    fn new_with_level_and_title_files_at_once() {
        assert_eq!(
            parse("new SEV1 checkout 5xx spike"),
            Ok(Command::File {
                level: Level::Sev1,
                title: "checkout 5xx spike".into()
            })
        );
        assert_eq!(
            parse("NEW sev0  db down"),
            Ok(Command::File {
                level: Level::Sev0,
                title: "db down".into()
            })
        );
        assert!(
            parse("new checkout down")
                .unwrap_err()
                .0
                .contains("Start with the level")
        );
        assert!(parse("new SEV1").unwrap_err().0.contains("Missing text"));
    }

    #[test]
    fn channel_commands_parse_their_arguments() {
        assert_eq!(parse("update rolled back"), Ok(Command::Update("rolled back".into())));
        assert_eq!(
            parse("public We are investigating"),
            Ok(Command::Public("We are investigating".into()))
        );
        assert_eq!(parse("level sev0"), Ok(Command::Level(Level::Sev0)));
        assert_eq!(
            parse("mitigated"),
            Ok(Command::Status {
                to: Status::Mitigated,
                reason: None
            })
        );
        assert_eq!(
            parse("resolved false alarm"),
            Ok(Command::Status {
                to: Status::Resolved,
                reason: Some("false alarm".into())
            })
        );
        assert_eq!(
            parse("close"),
            Ok(Command::Status {
                to: Status::Closed,
                reason: None
            })
        );
        assert_eq!(parse("page payments"), Ok(Command::Page("payments".into())));
        assert_eq!(parse("mayday"), Ok(Command::Mayday));
        assert_eq!(
            parse("sca should add an alert"),
            Ok(Command::Sca {
                priority: Priority::Should,
                text: "add an alert".into()
            })
        );
        assert_eq!(
            parse("owner <@U024BE7LH|alice>"),
            Ok(Command::ReportOwner("U024BE7LH".into()))
        );
        assert_eq!(parse("coordinator <@W123>"), Ok(Command::Coordinator("W123".into())));
        assert_eq!(parse("comms <@U0C|cat>"), Ok(Command::CommsLead("U0C".into())));
        assert_eq!(
            parse("deputy <@U0D>"),
            Ok(Command::Deputy {
                user: "U0D".into(),
                remove: false
            })
        );
        assert_eq!(
            parse("deputy Remove  <@U0D>"),
            Ok(Command::Deputy {
                user: "U0D".into(),
                remove: true
            })
        );
        assert_eq!(
            parse("tag System/Payments"),
            Ok(Command::Tag("system/payments".parse().unwrap()))
        );
        assert_eq!(parse("status"), Ok(Command::Show));
        assert_eq!(parse("scas overdue"), Ok(Command::Scas { overdue: true }));
        assert!(!parse("scas").unwrap().needs_sev_channel());
        assert!(parse("status").unwrap().needs_sev_channel());
        assert!(!parse("help").unwrap().needs_sev_channel());
    }

    #[test]
    fn malformed_input_explains_and_shows_usage() {
        for (text, hint) in [
            ("frobnicate", "I don't know `/sev frobnicate`"),
            ("update", "Missing text"),
            ("public", "/sev public <text>"),
            ("level 9", "Give a level"),
            ("sca urgent fix it", "Give a priority"),
            ("owner alice", "Mention the person"),
            ("comms", "/sev comms @user"),
            ("deputy remove bob", "/sev deputy remove @user"),
            ("tag a//b", "system/payments/ledger"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.0.contains(hint), "{text}: {e}");
            assert!(e.to_string().contains("/sev new SEV1"), "usage shown for {text}");
        }
    }
}
