//! `{{label}}` placeholders in rule values, filled from an alert's labels. A missing label
//! expands to nothing, so `system/{{service}}` without a `service` label becomes `system/`,
//! which the caller then drops as an invalid tag rather than guessing.

use super::Labels;

pub fn expand(template: &str, labels: &Labels) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                if let Some(v) = labels.get(name) {
                    out.push_str(v);
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// True when every placeholder names a label the alert has.
pub fn complete(template: &str, labels: &Labels) -> bool {
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { return true };
        if !labels.contains_key(after[..close].trim()) {
            return false;
        }
        rest = &after[close + 2..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_from_labels() {
        let l: Labels = [("service".to_string(), "checkout".to_string())].into();
        assert_eq!(expand("system/{{service}}", &l), "system/checkout");
        assert_eq!(expand("{{ service }}-{{missing}}", &l), "checkout-");
        assert_eq!(expand("no {{ end", &l), "no {{ end");
        assert!(complete("system/{{service}}", &l));
        assert!(!complete("system/{{team}}", &l));
    }
}
