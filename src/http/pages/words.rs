//! A page's words: the language chosen for this browser and this tenant, and the name of the
//! site that sent the user here.

use std::sync::Arc;

use actix_web::HttpRequest;
use chrono::{DateTime, Datelike, Utc};

use crate::app::links::Claims;
use crate::app::state::AppState;
use crate::i18n::{Arg, Language};

/// What every page template calls `t`.
#[derive(Debug, Clone)]
pub struct Words {
    lang: Arc<Language>,
    site: String,
}

impl Words {
    /// For a page of a link: the browser's language among those shipped, else the tenant's
    /// default; the site named by the key that made the link, else the tenant's display name,
    /// else the host the user came from (which they know), never "twofold".
    pub fn of(req: &HttpRequest, state: &AppState, claims: &Claims) -> Words {
        let site = claims
            .site
            .clone()
            .or_else(|| {
                state
                    .config
                    .totp
                    .name_of(&claims.tenant)
                    .map(str::to_string)
            })
            .or_else(|| {
                url::Url::parse(&claims.return_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
            })
            .unwrap_or_else(|| claims.tenant.clone());
        let default = state.config.tenant_languages.get(&claims.tenant);
        Words {
            lang: state
                .words
                .choose(accepted(req), default.map(String::as_str)),
            site,
        }
    }

    /// For a page without a valid link (a refused or used one): the browser's language, and no
    /// site to name.
    pub fn bare(req: &HttpRequest, state: &AppState) -> Words {
        Words::in_language(state.words.choose(accepted(req), None))
    }

    /// In `lang`, naming no site.
    pub fn in_language(lang: Arc<Language>) -> Words {
        Words {
            lang,
            site: String::new(),
        }
    }

    /// The `lang` attribute.
    pub fn tag(&self) -> &'static str {
        self.lang.tag()
    }

    pub fn say(&self, id: &str) -> String {
        self.lang.say(id)
    }

    /// A message naming the site (`$site`).
    pub fn site(&self, id: &str) -> String {
        self.lang.say_with(id, &[("site", Arg::Text(&self.site))])
    }

    pub fn say_with(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.lang.say_with(id, args)
    }

    /// "Enter the code we texted to +33 ••••••• 78."
    pub fn say_phone(&self, masked: &str) -> String {
        self.say_with("confirm-intro-phone", &[("phone", Arg::Text(masked))])
    }

    /// A page title after a refused form: "Error: …".
    pub fn error_title(&self, title: String) -> String {
        self.say_with("error-title-prefix", &[("title", Arg::Text(&title))])
    }

    /// "6 Dec", in this language.
    pub fn short_date(&self, at: DateTime<Utc>) -> String {
        let day = i64::from(at.day());
        let month = i64::from(at.month());
        self.say_with(
            "date-short",
            &[("day", Arg::Number(day)), ("month", Arg::Number(month))],
        )
    }

    pub fn language(&self) -> &Arc<Language> {
        &self.lang
    }
}

fn accepted(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}
