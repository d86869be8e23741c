//! The words people read on the hosted pages, in every language shipped, and the choice among
//! them.
//!
//! The words live in Project Fluent files, one per language (`templates/i18n/{en,fr}.ftl`),
//! compiled into the binary and parsed once at start: a file that does not parse stops the
//! start, and `tests.rs` checks that every language has every message. A page picks its language
//! from the browser's `Accept-Language` among those shipped, else the tenant's default
//! (`tenant_languages`), else English. The admin console stays English and does not use this.

use std::sync::Arc;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

#[cfg(test)]
mod tests;

/// The languages shipped, as (tag, Fluent source); the first is the fallback of every choice.
const SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../../templates/i18n/en.ftl")),
    ("fr", include_str!("../../templates/i18n/fr.ftl")),
];

/// The language tags shipped, for validating a configured default.
pub fn shipped() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|(tag, _)| *tag)
}

/// One language's messages.
pub struct Language {
    tag: &'static str,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Language").field("tag", &self.tag).finish()
    }
}

/// A value given to a message: a text or a number (numbers choose plural forms).
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

impl Language {
    fn parse(tag: &'static str, source: &str) -> Result<Language, String> {
        let id: LanguageIdentifier = tag.parse().map_err(|e| format!("{tag}: {e}"))?;
        let resource = FluentResource::try_new(source.to_string())
            .map_err(|(_, errors)| format!("{tag}.ftl does not parse: {errors:?}"))?;
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks around values: every shipped language is left-to-right,
        // and the marks would land in titles and in the SMS text.
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|errors| format!("{tag}.ftl repeats a message: {errors:?}"))?;
        Ok(Language { tag, bundle })
    }

    /// The language's tag (`en`, `fr`): the pages' `lang` attribute.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// Whether the language has the message `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundle
            .get_message(id)
            .is_some_and(|m| m.value().is_some())
    }

    /// The message `id`, without values.
    pub fn say(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with its values.
    pub fn say_with(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Text(s) => FluentValue::from(*s),
                Arg::Number(n) => FluentValue::from(*n),
            };
            fluent.set(*name, value);
        }
        self.format(id, Some(&fluent))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            // The tests keep every language complete; a miss here is a bug, said once per page.
            tracing::error!(language = self.tag, message = id, "missing message");
            return id.to_string();
        };
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::error!(
                language = self.tag,
                message = id,
                ?errors,
                "message misused"
            );
        }
        text.into_owned()
    }
}

/// The languages of an `Accept-Language` header, most wanted first (RFC 9110 §12.5.4): by
/// weight, then in the order given; `q=0` ("not this one") and `*` left out, a tag that does
/// not parse skipped. At most the first 32 entries are read: a browser sends a handful.
fn preferences(header: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(f32, usize, LanguageIdentifier)> = header
        .split(',')
        .take(32)
        .enumerate()
        .filter_map(|(at, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            // NaN and anything not above zero alike: "not this one".
            if q.is_nan() || q <= 0.0 || tag == "*" {
                return None;
            }
            Some((q, at, tag.parse().ok()?))
        })
        .collect();
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    weighted.into_iter().map(|(_, _, tag)| tag).collect()
}

/// Every language shipped, parsed.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// In [`SOURCES`] order: English first.
    languages: Vec<Arc<Language>>,
}

impl Catalogue {
    /// Parses the shipped files; an error names the file and the fault.
    pub fn load() -> Result<Catalogue, String> {
        let languages = SOURCES
            .iter()
            .map(|(tag, source)| Language::parse(tag, source).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Catalogue { languages })
    }

    /// English: the console's words, the fallback of every choice.
    pub fn english(&self) -> Arc<Language> {
        Arc::clone(&self.languages[0])
    }

    fn by_tag(&self, tag: &str) -> Option<&Arc<Language>> {
        self.languages
            .iter()
            .find(|l| l.tag.eq_ignore_ascii_case(tag))
    }

    /// The language for a browser's `Accept-Language` (its order of preference; `fr-CA` takes
    /// `fr`), else the tenant's default, else English.
    pub fn choose(&self, accept_language: Option<&str>, default: Option<&str>) -> Arc<Language> {
        let fallback = default
            .and_then(|d| self.by_tag(d))
            .unwrap_or(&self.languages[0]);
        let Some(header) = accept_language else {
            return Arc::clone(fallback);
        };
        let requested = preferences(header);
        let available: Vec<LanguageIdentifier> = self
            .languages
            .iter()
            .filter_map(|l| l.tag.parse().ok())
            .collect();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen
            .first()
            .and_then(|id| self.by_tag(&id.to_string()))
            .unwrap_or(fallback)
            .clone()
    }
}
