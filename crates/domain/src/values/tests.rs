//! Tests of the values.

use super::*;
use crate::validation::{FieldIssue, PasswordSuggestion, PasswordWarning};
use proptest::prelude::*;

/// A new username under the default policy (3-50 characters).
fn username(raw: &str) -> Result<Username, FieldIssue> {
    Username::parse(raw, &UsernamePolicy::default())
}

#[test]
fn username_rules() {
    assert!(username("testuser").is_ok());
    assert!(username("张三丰").is_ok());
    assert_eq!(username("ab"), Err(FieldIssue::Length { min: 3, max: 50 }));
    assert_eq!(
        username(&"a".repeat(51)),
        Err(FieldIssue::Length { min: 3, max: 50 })
    );
    assert_eq!(username("a b c"), Err(FieldIssue::UsernameCharacters));
    assert_eq!(username("a@b"), Err(FieldIssue::UsernameCharacters));
    assert_eq!(username("12345"), Err(FieldIssue::UsernameAllDigits));
    assert_eq!(username("   "), Err(FieldIssue::Required));
    assert_eq!(
        username("  alice ").map(|u| u.display),
        Ok("alice".to_owned())
    );
}

#[test]
fn the_minimum_is_a_policy_counted_in_characters_after_nfc() {
    let two = UsernamePolicy { min_chars: 2 };
    assert_eq!(
        Username::parse("张三", &two).map(|u| u.display),
        Ok("张三".to_owned())
    );
    assert_eq!(
        Username::parse("张", &two),
        Err(FieldIssue::Length { min: 2, max: 50 })
    );
    // `e` + U+0301 is one character once composed.
    assert_eq!(
        Username::parse("e\u{301}", &two),
        Err(FieldIssue::Length { min: 2, max: 50 })
    );
    assert!(Username::parse("e\u{301}x", &two).is_ok());
    assert_eq!(
        username("张三"),
        Err(FieldIssue::Length { min: 3, max: 50 })
    );
    // Names that exist already are read whatever the minimum.
    assert!(Username::parse("z", &UsernamePolicy::EXISTING).is_ok());
    assert!(matches!(Login::parse("张三", cn()), Ok(Login::Username(_))));
    assert!(matches!(Login::parse("ab", cn()), Ok(Login::Username(_))));
}

#[test]
fn email_rules() {
    assert_eq!(
        Email::parse(" Test@Example.COM ").map(|e| e.0),
        Ok("test@example.com".to_owned())
    );
    for bad in [
        "plain",
        "a@b",
        "@example.com",
        "a@.com",
        "a@b..com",
        "a b@c.com",
        "a@b@c.com",
        "a@-b.com",
    ] {
        assert_eq!(Email::parse(bad), Err(FieldIssue::EmailFormat), "{bad}");
    }
}

fn cn() -> PhoneRegion {
    PhoneRegion::parse("CN").unwrap()
}

#[test]
fn a_phone_longer_than_e164_allows_is_refused() {
    // Found by `phone_is_e164_and_idempotent`: Egypt's general pattern takes
    // these 17 digits, but E.164 numbers have at most 15.
    assert!(Phone::parse("+20100000000 00000", cn()).is_err());
    assert!(Phone::parse("+201000000000", cn()).is_ok());
}

#[test]
fn phone_rules() {
    // Issue 12 item 9: one number however it is written, read in CN.
    for same in [
        "13800138000",
        "+86 13800138000",
        "0086 13800138000",
        "+86 138-0013-8000",
        " (138) 0013.8000 ",
    ] {
        assert_eq!(
            Phone::parse(same, cn()).map(|p| p.0),
            Ok("+8613800138000".to_owned()),
            "{same}"
        );
    }
    assert_eq!(
        Phone::parse("+1 (555) 010-0199", cn()).map(|p| p.0),
        Ok("+15550100199".to_owned())
    );
    // The same digits without `+` are a Chinese mobile number.
    assert_eq!(
        Phone::parse("15550100199", cn()).map(|p| p.0),
        Ok("+8615550100199".to_owned())
    );
    // Read in another region, national numbers are that region's.
    assert_eq!(
        Phone::parse("(201) 555-0123", PhoneRegion::parse("us").unwrap()).map(|p| p.0),
        Ok("+12015550123".to_owned())
    );
    // A reserved range is taken written internationally, never nationally.
    assert_eq!(
        Phone::parse("(555) 010-0199", PhoneRegion::parse("us").unwrap()),
        Err(FieldIssue::PhoneFormat)
    );
    for bad in [
        "12a45",
        "123",
        "+",
        "+86 1",
        "1-800-FLOWERS",
        "++8613800138000",
        "13800138000 ext. 12",
    ] {
        assert_eq!(
            Phone::parse(bad, cn()),
            Err(FieldIssue::PhoneFormat),
            "{bad}"
        );
    }
    assert_eq!(Phone::parse("  ", cn()), Err(FieldIssue::Required));
    assert_eq!(PhoneRegion::parse("XX"), Err(FieldIssue::PhoneFormat));
    assert_eq!(PhoneRegion::default().as_str(), "CN");
}

#[test]
fn bare_phone_digits_read_once_or_are_ambiguous() {
    // Stored as typed without `+`: only the international reading is valid.
    assert_eq!(
        Phone::from_bare_digits("8613800138000", cn()).map(|p| p.0),
        Ok("+8613800138000".to_owned())
    );
    assert_eq!(
        Phone::from_bare_digits("13800138000", cn()).map(|p| p.0),
        Ok("+8613800138000".to_owned())
    );
    assert_eq!(
        Phone::from_bare_digits("+8613800138000", cn()).map(|p| p.0),
        Ok("+8613800138000".to_owned())
    );
    // Valid as a CN mobile and as a UK number: both readings are reported.
    let both = Phone::from_bare_digits("447911123456", cn());
    assert!(
        matches!(&both, Err(r) if r.len() == 2 && r[1].as_str() == "+447911123456") || both.is_ok(),
        "{both:?}"
    );
    assert_eq!(Phone::from_bare_digits("12", cn()), Err(Vec::new()));
}

#[test]
fn usernames_compare_as_people_read_them() {
    let canonical = |s: &str| username(s).map(|u| u.canonical().to_owned());
    // Issue 12 item 4: case in any script, the Kelvin sign, full width.
    assert_eq!(canonical("élise7"), canonical("Élise7"));
    assert_eq!(canonical("Élise7"), Ok("élise7".to_owned()));
    assert_eq!(canonical("e\u{301}lise7"), Ok("élise7".to_owned()), "NFC");
    assert_eq!(canonical("дмитрий7"), canonical("ДМИТРИЙ7"));
    assert_eq!(canonical("\u{212A}ora7"), Ok("kora7".to_owned()));
    assert_eq!(canonical("Kora7"), Ok("kora7".to_owned()));
    assert_eq!(canonical("ｃarol7"), Ok("carol7".to_owned()));
    assert_eq!(canonical("ＣＡＲＯＬ７"), Ok("carol7".to_owned()));
    // The display form is kept.
    let u = username(" Élise7 ").unwrap();
    assert_eq!((u.as_str(), u.canonical()), ("Élise7", "élise7"));
    // PRECIS refuses compatibility characters; Tessera's rules still hold.
    assert_eq!(username("ﬁsh7"), Err(FieldIssue::UsernameCharacters));
    assert_eq!(username("a!b7"), Err(FieldIssue::UsernameCharacters));
    assert_eq!(username("１２３４"), Err(FieldIssue::UsernameAllDigits));
    assert_eq!(Username::from_stored("Élise7".into()).canonical(), "élise7");
}

#[test]
fn email_canonical_form_and_invisibles() {
    assert_eq!(
        Email::parse("Élise@Bücher.Example").map(|e| e.0),
        Ok("élise@xn--bcher-kva.example".to_owned())
    );
    assert_eq!(
        Email::parse("e\u{301}lise@xn--bcher-kva.example"),
        Email::parse("ÉLISE@BÜCHER.example")
    );
    for bad in [
        "a\u{200B}b@example.com",
        "ab@exa\u{200B}mple.com",
        "a\u{200D}b@example.com",
        "a\u{2060}b@example.com",
        "\u{FEFF}ab@example.com",
        "a\u{202E}b@example.com",
        "a\u{00AD}b@example.com",
        "a\u{034F}b@example.com",
        "a\u{3164}b@example.com",
        "ab@example.com\u{E0041}",
    ] {
        assert_eq!(Email::parse(bad), Err(FieldIssue::EmailFormat), "{bad:?}");
    }
}

#[test]
fn password_policy() {
    let p = PasswordPolicy::default();
    // Structural rules only: screening needs the account (`screen`).
    assert!(Password::parse("password123", &p).is_ok());
    // NFKC: full-width digits are digits; the stored form is normalised.
    let wide = Password::parse("Ｓｅｃｒｅｔ１２３", &p).unwrap();
    assert_eq!(wide.expose(), "Secret123");
    assert_eq!(
        PasswordAttempt::parse("Ｓｅｃｒｅｔ１２３")
            .unwrap()
            .expose(),
        "Secret123"
    );
    assert_eq!(
        PasswordAttempt::parse("Ｓｅｃｒｅｔ１２３")
            .unwrap()
            .expose_original(),
        "Ｓｅｃｒｅｔ１２３"
    );
    // A password that holds the name or the address, whatever its score.
    let pw = Password::parse("xXalice-2024Xx-Wombat-Quill", &p).unwrap();
    assert_eq!(
        pw.screen(&p, "Alice", "someone@b.com"),
        Err(FieldIssue::PasswordContainsIdentity)
    );
    assert_eq!(
        pw.screen(&p, "bob", "ALICE@b.com"),
        Err(FieldIssue::PasswordContainsIdentity)
    );
    assert_eq!(pw.screen(&p, "bob", "carol@b.com"), Ok(()));
    let off = PasswordPolicy {
        min_score: 0,
        ..p.clone()
    };
    assert_eq!(
        pw.screen(&off, "Alice", ""),
        Err(FieldIssue::PasswordContainsIdentity),
        "the identity rule holds with the score off"
    );
    assert_eq!(
        Password::parse("short", &p),
        Err(FieldIssue::Length { min: 8, max: 256 })
    );
    assert_eq!(Password::parse("", &p), Err(FieldIssue::Required));
    assert_eq!(
        Password::parse("pass\u{0}word1", &p),
        Err(FieldIssue::ControlCharacters)
    );
    let strict = PasswordPolicy {
        require_mixed: true,
        ..p
    };
    assert_eq!(
        Password::parse("password123", &strict),
        Err(FieldIssue::PasswordComposition)
    );
    assert!(Password::parse("Secret123", &strict).is_ok());
    assert_eq!(
        format!("{:?}", Password::parse("Secret123", &strict)),
        "Ok(Password(Secret(***)))"
    );
}

fn screened(password: &str, min_score: u8, username: &str, email: &str) -> Result<(), FieldIssue> {
    let policy = PasswordPolicy {
        min_score,
        ..PasswordPolicy::default()
    };
    Password::parse(password, &policy)?.screen(&policy, username, email)
}

#[test]
fn leaked_passwords_are_refused_as_too_common_with_a_suggestion() {
    for leaked in [
        "password123",
        "PassWord123",
        "ＰＡＳＳＷＯＲＤ１２３",
        "iloveyou2",
        "Password123!",
    ] {
        let issue = screened(leaked, 3, "bob", "bob@example.com").unwrap_err();
        assert_eq!(issue.code(), "password_too_common", "{leaked}: {issue:?}");
        let FieldIssue::PasswordGuessable {
            score,
            min_score,
            warning,
            suggestions,
        } = issue
        else {
            unreachable!()
        };
        assert!(score < 3, "{leaked}");
        assert_eq!(min_score, 3);
        assert!(warning.is_some_and(PasswordWarning::is_common_password));
        assert!(!suggestions.is_empty(), "{leaked}");
    }
    assert_eq!(
        screened("password123", 3, "bob", "bob@example.com"),
        Err(FieldIssue::PasswordGuessable {
            score: 0,
            min_score: 3,
            warning: Some(PasswordWarning::CommonPassword),
            suggestions: vec![PasswordSuggestion::AddAnotherWord],
        })
    );
}

#[test]
fn weak_patterns_are_refused_as_too_weak_with_their_reason() {
    for (weak, warning) in [
        ("zxcvbnm,./", PasswordWarning::StraightRowsOfKeys),
        ("abcdefghij", PasswordWarning::Sequences),
        ("zzzzzzzzzz", PasswordWarning::RepeatedCharacters),
        ("abcabcabcabc", PasswordWarning::RepeatedPatterns),
        ("12/05/1987", PasswordWarning::Dates),
    ] {
        let issue = screened(weak, 3, "bob", "bob@example.com").unwrap_err();
        assert_eq!(
            issue.code(),
            if warning.is_common_password() {
                "password_too_common"
            } else {
                "password_too_weak"
            },
            "{weak}: {issue:?}"
        );
        assert!(
            matches!(&issue, FieldIssue::PasswordGuessable { warning: Some(w), suggestions, .. } if *w == warning && !suggestions.is_empty()),
            "{weak}: {issue:?}"
        );
    }
}

#[test]
fn names_and_the_accounts_own_words_lower_the_score() {
    // Common names, alone or with a year: name-based guesses.
    for (name, warning) in [
        ("jennifer", PasswordWarning::NameByItself),
        ("michael1990", PasswordWarning::CommonNames),
        ("smith2019", PasswordWarning::CommonNames),
    ] {
        let issue = screened(name, 3, "bob", "bob@example.com").unwrap_err();
        assert_eq!(issue.code(), "password_too_weak", "{name}");
        assert!(
            matches!(&issue, FieldIssue::PasswordGuessable { score, warning: Some(w), .. } if *score < 3 && *w == warning),
            "{name}: {issue:?}"
        );
    }
    // The account's own words, disguised so that the containment rule
    // misses them (substitutions), are known to zxcvbn: score 3 → 1.
    assert_eq!(password_score("w0mb@th1ll99", &[]).0, 3);
    assert_eq!(
        password_score("w0mb@th1ll99", &["wombathill", "bob@example.com"]).0,
        1
    );
    assert_eq!(
        screened("w0mb@th1ll99", 3, "wombathill", "bob@example.com").map_err(|e| e.code()),
        Err("password_too_weak")
    );
    assert_eq!(
        screened("w0mb@th1ll99", 3, "bob", "bob@example.com"),
        Ok(())
    );
}

#[test]
fn strong_passwords_pass_and_the_score_is_configurable() {
    for strong in [
        "correct horse battery staple",
        "Wenzhou-Rain-47-Quill",
        "kx9#Lm2$vQ!t",
    ] {
        assert_eq!(
            screened(strong, 4, "bob", "bob@example.com"),
            Ok(()),
            "{strong}"
        );
    }
    // Score 0 turns the screening off; each level refuses more.
    assert_eq!(screened("password123", 0, "bob", "bob@example.com"), Ok(()));
    let (score, _, _) = password_score("Secret123", &[]);
    assert!(score < PasswordPolicy::MAX_SCORE);
    assert_eq!(
        screened("Secret123", score, "bob", "bob@example.com"),
        Ok(())
    );
    assert!(screened("Secret123", score + 1, "bob", "bob@example.com").is_err());
    // Without feedback from zxcvbn (it gives none above score 2) there is
    // still a suggestion.
    let issue = screened("Secret-Wombat-9", 4, "bob", "bob@example.com");
    if let Err(FieldIssue::PasswordGuessable { suggestions, .. }) = issue {
        assert!(!suggestions.is_empty());
    }
}

#[test]
fn the_scored_part_is_bounded_in_length_and_l33t_combinations() {
    // A weak 64-character head scores as weak whatever follows it.
    let head = "a".repeat(PasswordPolicy::SCORED_CHARS);
    let tail = "kx9#Lm2$vQ!t-Wenzhou-Rain-47";
    assert_eq!(scored_prefix(&format!("{head}{tail}")), head);
    assert_eq!(
        password_score(&format!("{head}{tail}"), &[]),
        password_score(&head, &[])
    );
    // Long passwords are judged on their head and stored whole.
    let strong = format!(
        "{}{}",
        "correct horse battery staple ".repeat(4),
        "a".repeat(100)
    );
    let p = Password::parse(&strong, &PasswordPolicy::default()).unwrap();
    assert_eq!(
        p.screen(&PasswordPolicy::default(), "bob", "bob@example.com"),
        Ok(())
    );
    assert_eq!(p.expose().chars().count(), strong.chars().count());
    // Every l33t substitute at once (576 combinations, ~0.8 s of zxcvbn
    // for 85 characters): the prefix shrinks so that combinations ×
    // length² stays within the budget, and still shows the strength.
    let symbols =
        "q7#Vz9!mK2$wL8@xR4%tN6^pB1&hJ3*cF5(gD0)sY7-eU2+aI9=oP4[lM8]kZ6{jX1}uC3;vT5:bW0,nQ2.";
    let all_l33t = "4@8({[<3691!|70$5+%2";
    for pw in [symbols, all_l33t] {
        let prefix = scored_prefix(pw);
        assert!(
            pw.starts_with(&prefix) && prefix.chars().count() >= 11,
            "{prefix}"
        );
        assert!(
            prefix.chars().count() < pw.chars().count().min(64),
            "{prefix}"
        );
        assert_eq!(screened(pw, 3, "bob", "bob@example.com"), Ok(()), "{pw}");
    }
    assert_eq!(scored_prefix(all_l33t), "4@8({[<3691");
    // Generated passwords with a few symbols keep their whole length.
    assert_eq!(scored_prefix("q7#Vz9!mK2$wL8@x"), "q7#Vz9!mK2$wL8@x");
    assert_eq!(scored_prefix(""), "");
}

#[test]
fn login_reads_each_kind() {
    assert!(matches!(Login::parse("a@b.com", cn()), Ok(Login::Email(_))));
    // Usernames that look like numbers but are none stay usernames.
    for name in ["007-008", "2024.10"] {
        assert!(username(name).is_ok(), "{name}");
        assert!(
            matches!(Login::parse(name, cn()), Ok(Login::Username(_))),
            "{name}"
        );
    }
    assert!(matches!(
        Login::parse("13800138000", cn()),
        Ok(Login::Phone(_))
    ));
    assert!(matches!(
        Login::parse("alice", cn()),
        Ok(Login::Username(_))
    ));
    assert!(matches!(Login::parse("", cn()), Err(FieldIssue::Required)));
    // Phones read as Phone::parse reads them.
    assert_eq!(
        Login::parse("0086 138 0013 8000", cn()),
        Ok(Login::Phone(Phone("+8613800138000".into())))
    );
    assert_eq!(
        Login::parse("15550100199", cn()),
        Ok(Login::Phone(Phone("+8615550100199".into())))
    );
    assert_eq!(Login::parse("123", cn()), Err(FieldIssue::PhoneFormat));
    assert!(
        matches!(Login::parse("\u{212A}ora7", cn()), Ok(Login::Username(u)) if u.canonical() == "kora7")
    );
}

proptest! {
    #[test]
    fn username_parse_is_idempotent_and_bounded(raw in "\\PC{0,60}") {
        if let Ok(u) = username(&raw) {
            let n = u.as_str().chars().count();
            prop_assert!((3..=50).contains(&n));
            prop_assert!(!u.as_str().contains('@'));
            prop_assert_eq!(username(u.as_str()), Ok(u.clone()));
        }
    }

    #[test]
    fn valid_usernames_are_accepted(raw in "[a-zA-Z_][a-zA-Z0-9_.-]{2,49}") {
        prop_assert!(username(&raw).is_ok());
    }

    #[test]
    fn email_is_normalised_and_idempotent(local in "[A-Za-z0-9._+]{1,20}", domain in "[A-Za-z0-9]{1,10}\\.[A-Za-z]{2,6}") {
        let raw = format!("  {local}@{domain} ");
        let e = Email::parse(&raw).unwrap();
        prop_assert_eq!(e.as_str(), raw.trim().to_lowercase());
        prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
    }

    #[test]
    fn email_parse_never_panics_and_output_is_lowercase(raw in "\\PC{0,80}") {
        if let Ok(e) = Email::parse(&raw) {
            prop_assert_eq!(e.as_str().to_lowercase(), e.as_str());
            prop_assert_eq!(e.as_str().matches('@').count(), 1);
        }
    }

    #[test]
    fn phone_is_e164_and_idempotent(raw in "\\+?[0-9 ()-]{0,30}") {
        if let Ok(p) = Phone::parse(&raw, cn()) {
            prop_assert!(p.as_str().starts_with('+'));
            prop_assert!(p.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
            prop_assert!(p.as_str().len() <= 16);
            prop_assert_eq!(Phone::parse(p.as_str(), cn()), Ok(p.clone()));
            prop_assert_eq!(Phone::parse(p.as_str(), PhoneRegion::parse("US").unwrap()), Ok(p.clone()));
        }
    }

    #[test]
    fn username_canonical_form_is_stable(raw in "\\PC{0,60}") {
        if let Ok(u) = username(&raw) {
            // The canonical form is a fixed point and names the same account.
            let again = username(u.canonical()).unwrap();
            prop_assert_eq!(again.canonical(), u.canonical());
            prop_assert_eq!(username(&u.as_str().to_uppercase()).map(|x| x.canonical().to_owned()).ok().unwrap_or_else(|| u.canonical().to_owned()), u.canonical().to_owned());
        }
    }

    #[test]
    fn email_never_holds_invisibles(raw in "\\PC{0,40}", at in 0usize..40) {
        let mut s: Vec<char> = format!("{raw}a@b.com").chars().collect();
        let i = at.min(s.len());
        s.insert(i, '\u{200B}');
        let s: String = s.into_iter().collect();
        prop_assert_eq!(Email::parse(&s).ok(), None);
    }

    #[test]
    fn password_length_policy_holds(raw in "\\PC{0,300}") {
        let policy = PasswordPolicy::default();
        // Lengths count the NFKC form, which is what is stored.
        let normalized = nfkc(&raw);
        let n = normalized.chars().count();
        match Password::parse(&raw, &policy) {
            Ok(p) => { prop_assert!((8..=256).contains(&n)); prop_assert_eq!(p.expose(), normalized.as_str()); }
            Err(e) => prop_assert!(
                !(8..=256).contains(&n)
                    || normalized.chars().any(char::is_control)
                    || e == FieldIssue::PasswordComposition
            ),
        }
    }

    #[test]
    fn login_never_panics(raw in "\\PC{0,80}") {
        let _ = Login::parse(&raw, cn());
    }
}

#[test]
fn a_digest_passes_the_screening_and_a_password_with_the_identity_does_not() {
    let policy = PasswordPolicy {
        min_score: 0,
        ..PasswordPolicy::default()
    };
    let digest = PasswordAttempt::sm3_digest(&"ab".repeat(32)).unwrap();
    assert_eq!(digest.screen(&policy, "bobby", "bobby@example.com"), Ok(()));
    let plain = PasswordAttempt::from(Password::parse("my-bobby-Pass1", &policy).unwrap());
    assert_eq!(
        plain.screen(&policy, "bobby", "bobby@example.com"),
        Err(FieldIssue::PasswordContainsIdentity)
    );
    assert_eq!(plain.screen(&policy, "alice", "a@b.com"), Ok(()));
}
