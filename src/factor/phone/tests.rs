use super::*;

fn allowed(spec: &str) -> Allowed {
    Allowed::parse(spec).unwrap()
}

/// libphonenumber's own example numbers of one type, as E.164, with their region.
fn examples(kind: fn(&Metadata) -> Option<&Descriptor>) -> Vec<(String, String)> {
    DATABASE
        .iter()
        .filter_map(|m| {
            let example = kind(m)?.example()?;
            Some((format!("+{}{example}", m.country_code()), m.id().to_owned()))
        })
        .collect()
}

#[test]
fn valid_mobiles_of_several_regions() {
    for (input, region, code) in [
        ("+33612345678", "FR", 33),
        ("+447400123456", "GB", 44),
        ("+4915123456789", "DE", 49),
        // NANP: libphonenumber cannot tell mobile from fixed, so FixedLineOrMobile.
        ("+12015550123", "US", 1),
        ("+15062345678", "CA", 1),
    ] {
        let phone = Phone::parse(input).unwrap();
        assert_eq!(phone.e164(), input);
        assert_eq!(phone.region(), region, "{input}");
        assert_eq!(phone.country_code(), code, "{input}");
    }
}

#[test]
fn every_regional_mobile_example_is_accepted_and_permitted_by_its_region() {
    let mobiles = examples(|m| m.descriptors().mobile());
    assert!(
        mobiles.len() > 200,
        "metadata has examples for most regions"
    );
    let mut failures = Vec::new();
    for (input, region) in mobiles.iter().filter(|(_, id)| is_region_code(id)) {
        if let Err(error) = check(input, &allowed(region)) {
            failures.push(format!("{input} ({region}): {error:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn leading_zero_plans_are_typed_on_the_whole_national_number() {
    // phonenumber's `number_type` drops the 0 and calls these Unknown.
    for (input, region) in [("+2250123456789", "CI"), ("+242061234567", "CG")] {
        assert_eq!(Phone::parse(input).unwrap().region(), region);
    }
}

#[test]
fn territories_sharing_a_calling_code() {
    // A Manx mobile: libphonenumber resolves it to the main country, but naming IM admits it.
    let manx = Phone::parse("+447924123456").unwrap();
    assert_eq!(manx.region(), "GB");
    assert!(allowed("IM").permits(&manx));
    assert!(allowed("GB").permits(&manx));
    assert!(!allowed("JE").permits(&manx));
    // A plain British mobile is not Manx.
    assert!(!allowed("IM").permits(&Phone::parse("+447400123456").unwrap()));
    // Jersey has its own ranges and resolves to JE.
    assert_eq!(Phone::parse("+447797712345").unwrap().region(), "JE");
}

#[test]
fn non_geographic_numbers_are_not_allowed() {
    for input in [
        "+870301234567", // Inmarsat mobile
        "+881612345678", // satellite mobile
        "+8823421234",   // international networks mobile
        "+883510012345", // international networks VoIP
        "+80012345678",  // universal freephone
    ] {
        assert_eq!(Phone::parse(input), Err(PhoneError::NotAllowed), "{input}");
    }
}

#[test]
fn numbers_that_cannot_take_an_sms_code_are_not_allowed() {
    for input in [
        "+33891123456", // FR premium rate (089x)
        "+19002123456", // US premium rate (1-900)
        "+33801234567", // FR toll free (080x)
        "+18002345678", // US toll free (1-800)
        "+33912345678", // FR VoIP (09)
        "+33123456789", // FR fixed line
    ] {
        assert_eq!(Phone::parse(input), Err(PhoneError::NotAllowed), "{input}");
    }
    // Every region's premium-rate and toll-free example, not just the two above.
    let mut refused = examples(|m| m.descriptors().premium_rate());
    refused.extend(examples(|m| m.descriptors().toll_free()));
    for (input, _) in refused {
        assert!(Phone::parse(&input).is_err(), "{input}");
    }
}

#[test]
fn the_usual_written_forms_are_stored_as_e164() {
    for input in [
        "+33612345678",
        "+33 6 12 34 56 78",
        "+33-6-12-34-56-78",
        "+33.6.12.34.56.78",
        "+33 (6) 12 34 56 78",
        " +33 612 345 678 ",
        "+ 33 6 12 34 56 78",
    ] {
        assert_eq!(normalise(input).as_deref(), Ok("+33612345678"), "{input:?}");
        assert_eq!(Phone::parse(input).unwrap().e164(), "+33612345678");
    }
    assert_eq!(
        Phone::parse("+1 (201) 555-0123").unwrap().e164(),
        "+12015550123"
    );
}

#[test]
fn each_spelling_error_has_its_own_refusal() {
    use PhoneError::{BadCharacter, DigitCount, NoCountryCode, NoSuchNumber};
    for (input, want) in [
        ("0612345678", NoCountryCode),
        ("0033612345678", NoCountryCode),
        ("33612345678", NoCountryCode),
        ("", NoCountryCode),
        ("tel:+33612345678", NoCountryCode),
        ("＋33612345678", NoCountryCode),
        ("+033612345678", NoCountryCode),
        ("+33612abc678", BadCharacter),
        ("+３３612345678", BadCharacter),
        ("+33612345678\n", BadCharacter),
        ("+33612345678;ext=1", BadCharacter),
        ("++33612345678", BadCharacter),
        ("+33/612345678", BadCharacter),
        ("+", DigitCount(0)),
        ("+0123", DigitCount(4)),
        ("+33 6 12", DigitCount(5)),
        ("+3361234567890123", DigitCount(16)),
        // Well formed, but no such numbers.
        ("+15555555555", NoSuchNumber),
        ("+3361234567", NoSuchNumber),   // one digit short for FR
        ("+336123456789", NoSuchNumber), // one digit long for FR
        ("+330612345678", NoSuchNumber), // trunk 0: libphonenumber would forgive it
        ("+33 (0)6 12 34 56 78", NoSuchNumber),
    ] {
        assert_eq!(Phone::parse(input), Err(want), "{input:?}");
    }
}

#[test]
fn refusals_say_what_is_wanted_and_never_the_number() {
    assert_eq!(
        PhoneError::NoCountryCode.to_string(),
        "a phone number starts with + and the country code, e.g. +33 6 12 34 56 78"
    );
    assert_eq!(
        PhoneError::NoSuchNumber.to_string(),
        "the number given is not a valid phone number (no such number range)"
    );
    let count = Phone::parse("+33 6 12").unwrap_err().to_string();
    assert!(
        count.contains("7 to 15 digits") && count.ends_with("has 5"),
        "{count}"
    );
    for input in ["+33612abc678", "+15555555555", "+3361234567890123"] {
        let message = Phone::parse(input).unwrap_err().to_string();
        assert!(
            !message.contains("612") && !message.contains("5555"),
            "{message}"
        );
    }
}

#[test]
fn prefix_drops_the_last_four_digits() {
    assert_eq!(Phone::parse("+33612345678").unwrap().prefix(), "+3361234");
    assert_eq!(Phone::parse("+12015550123").unwrap().prefix(), "+1201555");
    // The shortest mobile there is (Tokelau): what is left is the calling code.
    let shortest = Phone::parse("+6907290").unwrap();
    assert_eq!((shortest.prefix(), shortest.region()), ("+690", "TK"));
    assert_eq!(shortest.redacted(), "+690…90");
}

#[test]
fn only_the_last_two_digits_are_shown() {
    let phone = Phone::parse("+33612345678").unwrap();
    assert_eq!(phone.last_digits(), "78");
    assert_eq!(phone.redacted(), "+33…78");
    assert_eq!(Phone::parse("+12015550123").unwrap().redacted(), "+1…23");

    let debug = format!("{phone:?}");
    assert!(!debug.contains("612345678"), "{debug}");
    assert!(!debug.contains("12345"), "{debug}");
    assert!(debug.contains("+33…78"), "{debug}");
    assert!(!format!("{phone:#?}").contains("612345678"));
}

#[test]
fn allow_list_parsing() {
    assert_eq!(allowed("FR,BE"), allowed("be, fr"));
    assert_eq!(allowed(" fr ").to_string(), "FR");
    assert_eq!(allowed("fr,BE,Fr").to_string(), "BE,FR");
    assert_eq!(allowed("*"), Allowed::all());
    assert_eq!(allowed("*").to_string(), "*");
    for spec in [
        "", " ", "FR,", ",FR", "FR,,BE", "XX", "FRA", "F", "001", "*,FR", "FR;BE",
    ] {
        assert!(Allowed::parse(spec).is_err(), "{spec:?}");
    }
    assert!("ZZ".parse::<Allowed>().unwrap_err().contains("ZZ"));
}

#[test]
fn allow_list_round_trips_through_serde() {
    let list: Allowed = serde_json::from_str(r#""us,fr""#).unwrap();
    assert_eq!(serde_json::to_string(&list).unwrap(), r#""FR,US""#);
    assert!(serde_json::from_str::<Allowed>(r#""""#).is_err());
}

#[test]
fn permits_and_check() {
    let fr = Phone::parse("+33612345678").unwrap();
    let us = Phone::parse("+12015550123").unwrap();
    let list = allowed("FR,DE");
    assert!(list.permits(&fr));
    assert!(!list.permits(&us));
    assert!(Allowed::all().permits(&us));

    assert_eq!(check("+33612345678", &list), Ok(fr.clone()));
    assert_eq!(check("+12015550123", &list), Err(PhoneError::NotAllowed));
    assert_eq!(check("0612345678", &list), Err(PhoneError::NoCountryCode));
    // A spelling error wins over the allow-list: the caller learns what to fix first.
    assert_eq!(
        check("+33 612x345678", &allowed("US")),
        Err(PhoneError::BadCharacter)
    );
    // Written forms are judged as their E.164.
    assert_eq!(check("+33 6 12 34 56 78", &list), Ok(fr));
    // CA shares +1 with US: the region comes from the number, not the calling code.
    assert_eq!(
        check("+15062345678", &allowed("US")),
        Err(PhoneError::NotAllowed)
    );
}
