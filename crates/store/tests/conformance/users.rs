use crate::AnyStore;
use portcullis_core::store::{PageRequest, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_core::user::User;
use portcullis_proto::UserId;

pub fn user(id: &str, email: &str) -> User {
    User {
        id: UserId::new(id),
        email: email.into(),
        name: "Alice".into(),
        password_hash: Some("$argon2id$v=19$...".into()),
        disabled: false,
        contact: portcullis_core::oauth::claims::Contact::default(),
        created_at: UnixTime(10),
        updated_at: UnixTime(20),
    }
}

pub async fn user_round_trip_by_id_and_email(store: &AnyStore) {
    let u = user("u1", "alice@example.com");
    store.insert_user(&u).await.unwrap();
    assert_eq!(store.user(&u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(
        store.user_by_email("alice@example.com").await.unwrap(),
        Some(u)
    );
    assert_eq!(store.user_by_email("bob@example.com").await.unwrap(), None);
    assert_eq!(store.user(&UserId::new("u2")).await.unwrap(), None);
}

pub async fn duplicate_email_conflicts(store: &AnyStore) {
    store
        .insert_user(&user("u1", "alice@example.com"))
        .await
        .unwrap();
    let again = store.insert_user(&user("u2", "alice@example.com")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

pub async fn user_update(store: &AnyStore) {
    let mut u = user("u1", "alice@example.com");
    store.insert_user(&u).await.unwrap();
    u.disabled = true;
    u.password_hash = None;
    u.name = "Alice B.".into();
    u.updated_at = UnixTime(99);
    u.contact = portcullis_core::oauth::claims::Contact {
        phone_number: Some("+34600123456".into()),
        phone_number_verified: true,
        address: Some(portcullis_proto::claims::Address {
            street_address: Some("Calle Mayor 1\n2º".into()),
            locality: Some("Madrid".into()),
            region: None,
            postal_code: Some("28013".into()),
            country: Some("ES".into()),
        }),
    };
    assert!(store.update_user(&u).await.unwrap());
    assert_eq!(store.user(&u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(
        store.user_by_email("alice@example.com").await.unwrap(),
        Some(u.clone())
    );
    // And cleared again.
    u.contact = portcullis_core::oauth::claims::Contact::default();
    assert!(store.update_user(&u).await.unwrap());
    assert_eq!(store.user(&u.id).await.unwrap(), Some(u));
    assert!(
        !store
            .update_user(&user("nobody", "n@example.com"))
            .await
            .unwrap()
    );
}

pub async fn users_list_in_pages(store: &AnyStore) {
    for n in 0..5 {
        store
            .insert_user(&user(&format!("u{n}"), &format!("u{n}@example.com")))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let got = store.list_users(&page).await.unwrap();
        assert!(got.items.len() <= 2);
        seen.extend(got.items.iter().map(|u| u.id.to_string()));
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["u0", "u1", "u2", "u3", "u4"]);
}
