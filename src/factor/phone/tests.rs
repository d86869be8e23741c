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
fn anything_but_canonical_e164_is_malformed() {
    for input in [
        "0612345678",
        "+33 6 12 34 56 78",
        "+33-612345678",
        "+33(6)12345678",
        "33612345678",
        "+",
        "",
        "+0123",
        "+033612345678",
        "+330612345678", // trunk 0 after the country code: libphonenumber would forgive it
        "+3361234567890123",
        "＋33612345678",
        "+３３612345678",
        "+33612345678\n",
        " +33612345678",
        "+33612345678;ext=1",
        "tel:+33612345678",
        "+33612abc678",
        "+3361234567",   // one digit short for FR
        "+336123456789", // one digit long for FR
        "++33612345678",
    ] {
        assert_eq!(Phone::parse(input), Err(PhoneError::Malformed), "{input:?}");
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

    assert_eq!(check("+33612345678", &list), Ok(fr));
    assert_eq!(check("+12015550123", &list), Err(PhoneError::NotAllowed));
    assert_eq!(check("0612345678", &list), Err(PhoneError::Malformed));
    // Malformed wins over the allow-list: the caller learns what to fix first.
    assert_eq!(
        check("+33 612345678", &allowed("US")),
        Err(PhoneError::Malformed)
    );
    // CA shares +1 with US: the region comes from the number, not the calling code.
    assert_eq!(
        check("+15062345678", &allowed("US")),
        Err(PhoneError::NotAllowed)
    );
}
