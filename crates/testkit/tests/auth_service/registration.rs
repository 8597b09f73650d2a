//! Registration, and the wiring of the memory ports.

use super::*;

#[tokio::test]
async fn register_stores_a_normalised_user_with_the_default_role() {
    let h = harness();
    let u = h
        .svc
        .register(
            &form(" testuser ", "Test@Example.com", "Kite-Runner-9"),
            Locale::En,
            LinkKind::Page,
        )
        .await
        .unwrap();
    assert_eq!(u.username.as_str(), "testuser");
    assert_eq!(u.email.as_str(), "test@example.com");
    assert_eq!(u.role.as_str(), "unauth");
    assert!(u.is_active);
    assert_ne!(u.password_hash.as_str(), "password123");
}

#[tokio::test]
async fn register_reports_every_bad_field_at_once() {
    let h = harness();
    let mut f = form("ab", "not-an-email", "short");
    f.phone = Some("12ab".into());
    f.role = Some("super_admin".into());
    let Err(AuthError::Validation(e)) = h.svc.register(&f, Locale::En, LinkKind::Page).await else {
        panic!("expected validation")
    };
    let fields: Vec<&str> = e.fields().keys().map(String::as_str).collect();
    assert_eq!(fields, ["email", "password", "phone", "role", "username"]);
    assert!(matches!(
        e.fields()["role"][0],
        FieldIssue::RoleNotAllowed { .. }
    ));
}

#[tokio::test]
async fn duplicates_conflict_on_the_right_field() {
    let h = harness();
    alice(&h).await;
    for (f, field) in [
        (form("ALICE", "x@b.com", "Secret123"), UniqueField::Username),
        (form("alice2", "A@B.com", "Secret123"), UniqueField::Email),
        (
            RegistrationForm {
                phone: Some("138 0013 8000".into()),
                ..form("alice3", "c@b.com", "Secret123")
            },
            UniqueField::Phone,
        ),
    ] {
        match h.svc.register(&f, Locale::En, LinkKind::Page).await {
            Err(AuthError::Conflict(got)) => assert_eq!(got, field),
            other => panic!("expected conflict on {field:?}, got {other:?}"),
        }
    }
}

#[test]
fn memory_ports_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AuthService<MemoryPorts>>();
    assert_send_sync::<<MemoryPorts as Ports>::Users>();
}
