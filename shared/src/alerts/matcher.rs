//! Label matchers in Alertmanager's syntax: `name="value"`, `name!="value"`, `name=~"regex"`,
//! `name!~"regex"`. Regexes are anchored at both ends, as in Alertmanager; a missing label
//! matches as the empty string. Regexes use `regex-lite` syntax: RE2-like, ASCII classes only.

use std::fmt;
use std::str::FromStr;

use regex_lite::Regex;

use super::Labels;

#[derive(Debug, Clone)]
enum Op {
    Equal(String),
    NotEqual(String),
    Matches(Regex),
    NotMatches(Regex),
}

#[derive(Debug, Clone)]
pub struct Matcher {
    name: String,
    op: Op,
    source: String,
}

impl Matcher {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.name).map_or("", String::as_str);
        match &self.op {
            Op::Equal(v) => value == v,
            Op::NotEqual(v) => value != v,
            Op::Matches(re) => re.is_match(value),
            Op::NotMatches(re) => !re.is_match(value),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn unquote(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let Some(inner) = raw.strip_prefix('"') else {
        if raw.contains('"') {
            return Err("an unquoted value may not contain `\"`".into());
        }
        return Ok(raw.to_owned());
    };
    let inner = inner.strip_suffix('"').ok_or("the value's closing `\"` is missing")?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                // Regexes need their backslashes: keep unknown escapes as written.
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return Err("the value ends with a lone `\\`".into()),
            },
            '"' => return Err("a `\"` inside the value must be written `\\\"`".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

impl FromStr for Matcher {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let source = s.trim().to_owned();
        let bad = |why: &str| {
            format!(
                "`{source}` is not a matcher: {why}; write matchers like severity=\"critical\" or service=~\"pay.*\""
            )
        };
        let at = source.find(['=', '!']).ok_or_else(|| bad("no operator"))?;
        let name = source[..at].trim();
        let valid_name = name
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if name.is_empty() || !valid_name {
            return Err(bad(
                "the label name must be letters, digits and `_`, not starting with a digit",
            ));
        }
        let rest = &source[at..];
        let (op, value) = ["=~", "!~", "!=", "="]
            .into_iter()
            .find_map(|op| rest.strip_prefix(op).map(|v| (op, v)))
            .ok_or_else(|| bad("the operator must be one of =, !=, =~, !~"))?;
        let value = unquote(value).map_err(|e| bad(&e))?;
        let regex = |v: &str| Regex::new(&format!("^(?:{v})$")).map_err(|e| bad(&format!("bad regex: {e}")));
        let op = match op {
            "=" => Op::Equal(value),
            "!=" => Op::NotEqual(value),
            "=~" => Op::Matches(regex(&value)?),
            _ => Op::NotMatches(regex(&value)?),
        };
        Ok(Matcher {
            name: name.to_owned(),
            op,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn m(s: &str) -> Matcher {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_four_operators() {
        let l = labels(&[("severity", "critical"), ("service", "payments-api")]);
        assert!(m(r#"severity="critical""#).matches(&l));
        assert!(!m(r#"severity!="critical""#).matches(&l));
        assert!(m(r#"service=~"pay.*""#).matches(&l));
        assert!(!m(r#"service!~"pay.*""#).matches(&l));
        assert!(m("severity = critical").matches(&l), "unquoted values work too");
    }

    #[test]
    fn regexes_are_anchored_like_alertmanagers() {
        let l = labels(&[("service", "payments-api")]);
        assert!(!m(r#"service=~"pay""#).matches(&l));
        assert!(m(r#"service=~"payments-api|checkout""#).matches(&l));
        assert!(m(r#"service=~"\w+-api""#).matches(&l), "escapes reach the regex");
    }

    #[test]
    fn a_missing_label_is_the_empty_string() {
        let l = labels(&[]);
        assert!(m(r#"team="""#).matches(&l));
        assert!(m(r#"team!="payments""#).matches(&l));
        assert!(!m(r#"team=~".+""#).matches(&l));
    }

    #[test]
    fn quoted_values_unescape() {
        let l = labels(&[("msg", "say \"hi\"")]);
        assert!(m(r#"msg="say \"hi\"""#).matches(&l));
    }

    #[test]
    fn malformed_matchers_are_explained() {
        for bad in ["severity", "=x", "1a=\"x\"", r#"a=~"(""#, r#"a="x"#, r#"a=x"y"#, "a<>b"] {
            let err = bad.parse::<Matcher>().unwrap_err();
            assert!(err.contains("is not a matcher"), "{bad}: {err}");
        }
    }
}
