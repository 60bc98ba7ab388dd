//! What an SCA's Jira issue says: its summary, and its description in the Atlassian Document
//! Format (ADF) that REST v3 requires (plain strings are refused there).

use serde_json::{Value, json};

use crate::domain::{Priority, Sca, Sev};

/// Jira refuses longer summaries.
const MAX_SUMMARY: usize = 255;

/// `SCA-7: <first line of the text>`, cut to what Jira accepts (a summary is one line).
pub fn summary(sca: &Sca) -> String {
    let first = sca
        .text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let full = format!("{}: {first}", sca.id);
    if full.chars().count() <= MAX_SUMMARY {
        return full;
    }
    let mut cut: String = full.chars().take(MAX_SUMMARY - 1).collect();
    cut.push('…');
    cut
}

fn text(t: impl Into<String>) -> Value {
    json!({ "type": "text", "text": t.into() })
}

fn linked(t: impl Into<String>, href: &str) -> Value {
    json!({ "type": "text", "text": t.into(), "marks": [{ "type": "link", "attrs": { "href": href } }] })
}

fn paragraph(content: Vec<Value>) -> Value {
    json!({ "type": "paragraph", "content": content })
}

fn priority_words(p: Priority) -> &'static str {
    match p {
        Priority::Must => "Must Do",
        Priority::Should => "Should Do",
        Priority::Could => "Could Do",
    }
}

/// The SCA's text (one paragraph per line: ADF has no newlines in text), where it comes from,
/// and who owns it by when. A private SEV's title stays out of Jira: its SCAs may be seen by
/// anyone who sees the project, and its title may name the customer or the hole.
pub fn description(sca: &Sca, sev: &Sev, sev_url: Option<&str>) -> Value {
    let mut content: Vec<Value> = sca
        .text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| paragraph(vec![text(l)]))
        .collect();
    let sev_ref = match sev_url {
        Some(url) => linked(sev.id.to_string(), url),
        None => text(sev.id.to_string()),
    };
    let mut origin = vec![
        text(format!("Corrective action {} from ", sca.id)),
        sev_ref,
        text(format!(" ({})", sev.level.as_str())),
    ];
    if !sev.private {
        origin.push(text(format!(": {}", sev.title)));
    }
    content.push(paragraph(origin));
    let due = sca
        .due
        .map_or_else(|| "no due date".to_owned(), |d| format!("due {}", d.format("%Y-%m-%d")));
    content.push(paragraph(vec![text(format!(
        "{}, owner {}, {due}.",
        priority_words(sca.priority),
        sca.owner
    ))]));
    content.push(paragraph(vec![text(format!(
        "Filed by sevtool. When this issue is done, sevtool marks {} done.",
        sca.id
    ))]));
    json!({ "version": 1, "type": "doc", "content": content })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Level, NewSev, ScaId, ScaSource, SevId};
    use chrono::{TimeZone, Utc};

    fn sca(text: &str) -> Sca {
        let now = Utc.with_ymd_and_hms(2026, 7, 14, 9, 0, 0).unwrap();
        Sca::new(
            ScaId(7),
            SevId(3),
            text,
            Priority::Must,
            "U1".into(),
            Some(Utc.with_ymd_and_hms(2026, 8, 1, 9, 0, 0).unwrap()),
            ScaSource::Api,
            "U2".into(),
            now,
        )
        .unwrap()
    }

    fn sev(private: bool) -> Sev {
        let new = NewSev {
            title: "Checkout returns 5xx".into(),
            level: Some(Level::Sev1),
            private,
            ..NewSev::default()
        };
        let at = Utc.with_ymd_and_hms(2026, 7, 14, 8, 0, 0).unwrap();
        Sev::file(SevId(3), new, "U2".into(), at).unwrap().0
    }

    /// Every text node, in document order.
    fn texts(doc: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for block in doc["content"].as_array().unwrap() {
            assert_eq!(block["type"], "paragraph");
            for inline in block["content"].as_array().unwrap() {
                assert_eq!(inline["type"], "text");
                let t = inline["text"].as_str().unwrap();
                assert!(!t.is_empty(), "ADF refuses empty text nodes");
                assert!(!t.contains('\n'), "ADF text has no newlines");
                out.push(t.to_owned());
            }
        }
        out
    }

    #[test]
    fn the_description_is_a_valid_adf_document_with_the_facts() {
        let doc = description(
            &sca("Add an alert\n\n  on 5xx rate"),
            &sev(false),
            Some("https://sev.example.com/sevs/SEV-3"),
        );
        assert_eq!((doc["version"].as_u64(), doc["type"].as_str()), (Some(1), Some("doc")));
        let all = texts(&doc);
        assert_eq!(&all[..2], ["Add an alert", "on 5xx rate"]);
        let joined = all.concat();
        assert!(
            joined.contains("Corrective action SCA-7 from SEV-3 (SEV1): Checkout returns 5xx"),
            "{joined}"
        );
        assert!(joined.contains("Must Do, owner U1, due 2026-08-01."), "{joined}");
        let link = &doc["content"][2]["content"][1];
        assert_eq!(link["text"], "SEV-3");
        assert_eq!(link["marks"][0]["type"], "link");
        assert_eq!(link["marks"][0]["attrs"]["href"], "https://sev.example.com/sevs/SEV-3");
    }

    #[test]
    fn a_private_sev_s_title_stays_out_and_no_link_without_a_public_url() {
        let doc = description(&sca("Rotate the key"), &sev(true), None);
        let joined = texts(&doc).concat();
        assert!(!joined.contains("Checkout"), "{joined}");
        assert!(joined.contains("from SEV-3 (SEV1)Must Do"), "{joined}");
        assert!(doc.to_string().find("\"link\"").is_none());
    }

    #[test]
    fn summaries_are_one_line_within_jira_s_limit() {
        assert_eq!(summary(&sca("Add an alert\nmore detail")), "SCA-7: Add an alert");
        let long = summary(&sca(&"x".repeat(600)));
        assert_eq!(long.chars().count(), 255);
        assert!(long.ends_with('…'));
    }
}
