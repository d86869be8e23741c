//! The catalogue: every language complete, and the choice of a language.

use super::*;

fn ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
        .collect()
}

#[test]
fn every_language_parses_and_has_every_message_of_every_other() {
    let catalogue = Catalogue::load().unwrap();
    let all: std::collections::BTreeSet<String> =
        SOURCES.iter().flat_map(|(_, s)| ids(s)).collect();
    assert!(all.len() > 80, "the id reader found only {}", all.len());
    for language in &catalogue.languages {
        let missing: Vec<_> = all.iter().filter(|id| !language.has(id)).collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", language.tag());
    }
}

#[test]
fn the_browser_chooses_among_languages_shipped_then_the_tenant_then_english() {
    let c = Catalogue::load().unwrap();
    let tag = |accept: Option<&str>, default: Option<&str>| c.choose(accept, default).tag();
    assert_eq!(tag(Some("fr-CA,fr;q=0.9,en;q=0.8"), None), "fr");
    assert_eq!(tag(Some("de-DE,de;q=0.9,fr;q=0.5"), None), "fr");
    assert_eq!(tag(Some("en-GB,en;q=0.9"), Some("fr")), "en");
    assert_eq!(tag(Some("de, ja"), Some("fr")), "fr");
    assert_eq!(tag(None, Some("fr")), "fr");
    assert_eq!(tag(Some("de"), None), "en");
    assert_eq!(tag(Some("*"), Some("fr")), "fr");
    assert_eq!(tag(Some("FR"), None), "fr");
    assert_eq!(tag(Some(";;,,=q"), None), "en");
    // Weights order the wishes, and q=0 means "not this one".
    assert_eq!(tag(Some("fr;q=0.3, en;q=0.9"), Some("fr")), "en");
    assert_eq!(tag(Some("en;q=0.2, fr"), None), "fr");
    assert_eq!(tag(Some("fr;q=0, en"), None), "en");
    assert_eq!(tag(Some("fr;q=0"), Some("fr")), "fr");
    assert_eq!(tag(Some("fr;q=abc, en;q=0.1"), None), "en");
}

#[test]
fn numbers_pick_plural_forms_and_values_fill_in() {
    let c = Catalogue::load().unwrap();
    let en = c.choose(None, None);
    let fr = c.choose(Some("fr"), None);
    let one = [("count", Arg::Number(1))];
    let three = [("count", Arg::Number(3))];
    assert!(
        en.say_with("wrong-code-tries-left", &one)
            .contains("One more wrong code")
    );
    assert!(
        en.say_with("wrong-code-tries-left", &three)
            .contains("3 more wrong codes")
    );
    assert!(
        fr.say_with("wrong-code-tries-left", &three)
            .contains("Encore 3 codes")
    );
    let site = [("site", Arg::Text("Shop"))];
    assert_eq!(en.say_with("cancel", &site), "Cancel and return to Shop");
    assert_eq!(fr.say_with("cancel", &site), "Annuler et revenir à Shop");
    let date = [("day", Arg::Number(6)), ("month", Arg::Number(12))];
    assert_eq!(en.say_with("date-short", &date), "6 Dec");
    assert_eq!(fr.say_with("date-short", &date), "6 déc.");
}

#[test]
fn a_missing_message_shows_its_id_rather_than_nothing() {
    let c = Catalogue::load().unwrap();
    assert_eq!(c.english().say("no-such-message"), "no-such-message");
}
