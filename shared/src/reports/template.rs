//! `{{name}}` placeholders in the SEV report template. The names are fixed, so a template is
//! checked once when loaded: a typo stops the start with the name, not a report with a hole.

use std::collections::BTreeMap;

/// Every placeholder the report fills in.
pub const PLACEHOLDERS: &[&str] = &[
    "id",
    "title",
    "level",
    "status",
    "product_track",
    "tags",
    "reporter",
    "coordinator",
    "report_owner",
    "comms_lead",
    "deputies",
    "description",
    "started_at",
    "detected_at",
    "declared_at",
    "mitigated_at",
    "resolved_at",
    "time_to_detect",
    "time_to_mitigate",
    "time_to_resolve",
    "resolution",
    "timeline",
    "public_updates",
    "scas",
    "generated_at",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(&'static str),
}

/// A parsed report template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

const SHIPPED: &str = include_str!("../../templates/sev-report.md");

impl Template {
    /// The standard template, `shared/templates/sev-report.md`.
    pub fn shipped() -> Template {
        Template::parse(SHIPPED).unwrap_or_else(|e| unreachable!("the shipped template is tested: {e}"))
    }

    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut line = 1;
        while let Some(open) = rest.find("{{") {
            pieces.push(Piece::Text(rest[..open].to_owned()));
            line += rest[..open].matches('\n').count();
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("line {line}: `{{{{` is never closed with `}}}}`"))?;
            let name = after[..close].trim();
            let slot = PLACEHOLDERS.iter().find(|p| **p == name).ok_or_else(|| {
                format!(
                    "line {line}: `{{{{{name}}}}}` is not a placeholder; use one of {}",
                    PLACEHOLDERS.join(", ")
                )
            })?;
            pieces.push(Piece::Slot(slot));
            rest = &after[close + 2..];
        }
        pieces.push(Piece::Text(rest.to_owned()));
        Ok(Template { pieces })
    }

    pub fn render(&self, values: &BTreeMap<&'static str, String>) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Slot(name) => out.push_str(values.get(name).map_or("", String::as_str)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_template_parses_and_uses_every_placeholder() {
        for p in PLACEHOLDERS {
            assert!(SHIPPED.contains(&format!("{{{{{p}}}}}")), "{p} unused");
        }
        assert!(Template::parse(SHIPPED).is_ok());
    }

    #[test]
    fn unknown_or_unclosed_placeholders_are_refused_with_their_line() {
        let err = Template::parse("# {{id}}\n\n{{titel}}").unwrap_err();
        assert!(err.starts_with("line 3: `{{titel}}`"), "{err}");
        assert!(Template::parse("a {{id").unwrap_err().contains("never closed"));
    }

    #[test]
    fn fills_slots_and_keeps_text() {
        let t = Template::parse("# {{ id }}: {{title}}!").unwrap();
        let values = BTreeMap::from([("id", "SEV-1".to_owned()), ("title", "Down".to_owned())]);
        assert_eq!(t.render(&values), "# SEV-1: Down!");
    }
}
