//! The per-tenant TOTP issuer: the name an authenticator app shows above a relying party's
//! accounts (its product name), `twofold` unless configured.
//!
//! `TWOFOLD_TOTP_ISSUERS` is a list `tenant=Issuer,tenant=Issuer` (an environment variable holds
//! no table); in `twofold.toml`, `totp_issuers` may also be a table `{ shop = "Shop Inc" }`, which
//! takes issuers holding a `,`. A tenant not listed gets `TWOFOLD_TOTP_ISSUER`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

#[cfg(test)]
use super::ConfigError;
use super::RawConfig;
use super::problems::Problem;

/// `totp_issuers` as read: the list form or a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RawIssuers {
    List(String),
    Table(BTreeMap<String, String>),
}

/// By hand rather than `untagged`, whose refusal names this enum: a value of another shape is
/// then refused in the words of [`Visitor::expecting`], like any setting of the wrong type.
impl<'de> Deserialize<'de> for RawIssuers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shapes;
        impl<'de> Visitor<'de> for Shapes {
            type Value = RawIssuers;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "tenant=Issuer pairs separated by commas, or a table of tenant = \"Issuer\"",
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawIssuers, E> {
                Ok(RawIssuers::List(v.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawIssuers, A::Error> {
                BTreeMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawIssuers::Table)
            }
        }
        deserializer.deserialize_any(Shapes)
    }
}

const KEY: &str = "totp_issuers";
/// The longest issuer: it heads every account in the app, and the Key URI's label.
pub const MAX_ISSUER_CHARS: usize = 64;

/// An issuer as configured, trimmed: 1–64 characters, none of them `:` (it separates issuer and
/// account in the Key URI's label) nor a control or format character.
pub fn issuer(key: &'static str, value: &str) -> Result<String, Problem> {
    let v = value.trim();
    if v.is_empty()
        || v.chars().count() > MAX_ISSUER_CHARS
        || v.contains(':')
        || !crate::factor::text::is_displayable(v)
    {
        return Err(Problem::refused(
            key,
            "an issuer is 1 to 64 printable characters without ':'",
        ));
    }
    Ok(v.to_string())
}

/// The tenant rule of the API (`[A-Za-z0-9._-]`, 1–64): a tenant that cannot exist is a typo.
fn tenant(key: &'static str, t: &str) -> Result<String, Problem> {
    let ok = (1..=64).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(t.to_string())
    } else {
        Err(Problem::refused(
            key,
            format!("`{t}` is not a tenant id (1 to 64 of A-Z a-z 0-9 . _ -)"),
        ))
    }
}

/// Parses `totp_issuers` into tenant → issuer.
pub fn parse(raw: Option<&RawIssuers>) -> Result<BTreeMap<String, String>, Problem> {
    parse_as(KEY, raw, issuer)
}

/// Parses a per-tenant setting `key` (a list `tenant=value,…` or a table) into tenant → value,
/// each value checked by `value`.
pub fn parse_as(
    key: &'static str,
    raw: Option<&RawIssuers>,
    value: fn(&'static str, &str) -> Result<String, Problem>,
) -> Result<BTreeMap<String, String>, Problem> {
    let pairs: Vec<(String, String)> = match raw {
        None => return Ok(BTreeMap::new()),
        Some(RawIssuers::Table(t)) => t.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(RawIssuers::List(list)) => list
            .split(',')
            .filter(|item| !item.trim().is_empty())
            .map(|item| {
                item.split_once('=')
                    .map(|(t, i)| (t.trim().to_string(), i.to_string()))
                    .ok_or_else(|| {
                        Problem::refused(
                            key,
                            "a comma-separated list of tenant=value (e.g. `shop=Shop Inc`)",
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut map = BTreeMap::new();
    for (t, i) in pairs {
        let t = tenant(key, &t)?;
        let i = value(key, &i)?;
        if map.insert(t.clone(), i).is_some() {
            return Err(Problem::refused(
                key,
                format!("tenant `{t}` is listed twice"),
            ));
        }
    }
    Ok(map)
}

/// A language a tenant's pages may default to: one of those shipped.
fn language(key: &'static str, value: &str) -> Result<String, Problem> {
    let v = value.trim().to_ascii_lowercase();
    if crate::i18n::shipped().any(|tag| tag == v) {
        Ok(v)
    } else {
        let shipped: Vec<_> = crate::i18n::shipped().collect();
        Err(Problem::refused(
            key,
            format!(
                "`{v}` is not a language shipped (one of {})",
                shipped.join(", ")
            ),
        ))
    }
}

impl RawConfig {
    /// Each tenant's display name: `tenant_names`, and the older `totp_issuers` it grew from
    /// (the issuer an authenticator app shows is the display name); a tenant named differently
    /// in the two is refused.
    pub(super) fn totp_issuers(&self) -> Result<BTreeMap<String, String>, Problem> {
        let mut names = parse_as("tenant_names", self.tenant_names.as_ref(), issuer)?;
        for (tenant, issuer) in parse(self.totp_issuers.as_ref())? {
            match names.get(&tenant) {
                Some(name) if *name != issuer => {
                    return Err(Problem::refused(
                        "tenant_names",
                        format!(
                            "tenant `{tenant}` is named `{name}` here and `{issuer}` in totp_issuers"
                        ),
                    ));
                }
                _ => {
                    names.insert(tenant, issuer);
                }
            }
        }
        Ok(names)
    }

    pub(super) fn tenant_languages(&self) -> Result<BTreeMap<String, String>, Problem> {
        parse_as("tenant_languages", self.tenant_languages.as_ref(), language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> Result<BTreeMap<String, String>, Problem> {
        parse(Some(&RawIssuers::List(s.into())))
    }

    #[test]
    fn the_list_form_maps_tenants_to_issuers() {
        let map = list("shop=Shop Inc, blog = My Blog ,").unwrap();
        assert_eq!(map["shop"], "Shop Inc");
        assert_eq!(map["blog"], "My Blog");
        assert_eq!(map.len(), 2);
        assert!(list("").unwrap().is_empty());
        assert!(parse(None).unwrap().is_empty());
    }

    #[test]
    fn the_table_form_takes_commas() {
        let table = BTreeMap::from([("shop".to_string(), "Shop, Inc".to_string())]);
        let map = parse(Some(&RawIssuers::Table(table))).unwrap();
        assert_eq!(map["shop"], "Shop, Inc");
    }

    fn load(file: Option<&str>, env: &[(&str, &str)]) -> Result<super::super::Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("twofold.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        super::super::Config::load_from(file.map(|_| path.as_path()), env)
    }

    #[test]
    fn issuers_come_from_the_environment_or_a_table_in_the_file() {
        let c = load(
            None,
            &[("TWOFOLD_TOTP_ISSUERS", "shop=Shop Inc,blog=My Blog")],
        )
        .unwrap();
        assert_eq!(c.totp.issuer_for("shop"), "Shop Inc");
        assert_eq!(c.totp.issuer_for("blog"), "My Blog");
        assert_eq!(c.totp.issuer_for("default"), "twofold");
        let c = load(None, &[("TWOFOLD_TOTP_ISSUER", "Acme")]).unwrap();
        assert_eq!(c.totp.issuer_for("shop"), "Acme");

        let file = "[totp_issuers]\nshop = \"Shop, Inc\"\n";
        let c = load(Some(file), &[]).unwrap();
        assert_eq!(c.totp.issuer_for("shop"), "Shop, Inc");
        let c = load(Some("totp_issuers = \"shop=Shop Inc\"\n"), &[]).unwrap();
        assert_eq!(c.totp.issuer_for("shop"), "Shop Inc");

        let err = load(None, &[("TWOFOLD_TOTP_ISSUERS", "shop=A:B")]).unwrap_err();
        assert!(err.to_string().contains("TWOFOLD_TOTP_ISSUERS"), "{err}");
    }

    #[test]
    fn tenant_names_and_languages_are_read_and_checked() {
        let env = [
            ("TWOFOLD_TENANT_NAMES", "shop=Shop"),
            ("TWOFOLD_TOTP_ISSUERS", "blog=My Blog,shop=Shop"),
            ("TWOFOLD_TENANT_LANGUAGES", "shop=FR"),
        ];
        let c = load(None, &env).unwrap();
        assert_eq!(c.totp.name_of("shop"), Some("Shop"));
        assert_eq!(c.totp.name_of("blog"), Some("My Blog"));
        assert_eq!(c.totp.name_of("default"), None);
        assert_eq!(c.tenant_languages["shop"], "fr");
        // The same tenant named two ways: refused, not one picked silently.
        let env = [
            ("TWOFOLD_TENANT_NAMES", "shop=Shop"),
            ("TWOFOLD_TOTP_ISSUERS", "shop=Shop Inc"),
        ];
        let err = load(None, &env).unwrap_err().to_string();
        assert!(
            err.contains("TWOFOLD_TENANT_NAMES") && err.contains("Shop Inc"),
            "{err}"
        );
        let err = load(None, &[("TWOFOLD_TENANT_LANGUAGES", "shop=de")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`de` is not a language shipped (one of en, fr)"),
            "{err}"
        );
    }

    #[test]
    fn bad_entries_are_refused_naming_the_key() {
        for bad in [
            "shop",
            "shop=",
            "shop=  ",
            "shop=Shop:Inc",
            "shop=\u{202E}Shop",
            "bad tenant=Shop",
            "=Shop",
            "shop=A,shop=B",
        ] {
            let err = list(bad).unwrap_err().to_string();
            assert!(err.contains("TWOFOLD_TOTP_ISSUERS"), "{bad}: {err}");
        }
        assert!(list(&format!("shop={}", "x".repeat(65))).is_err());
        assert!(list(&format!("shop={}", "x".repeat(64))).is_ok());
    }

    #[test]
    fn a_value_of_another_shape_says_what_it_takes_not_our_type() {
        let err = load(Some("totp_issuers = 5\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("expects tenant=Issuer pairs"), "{err}");
        assert!(!err.contains("RawIssuers"), "{err}");
    }
}
