//! The sandbox: what `serve --sandbox` seeds must let a newcomer click through the printed
//! authorization URL without owning a wallet.

use portcullis_core::banking::onboarding;
use portcullis_core::store::{BankStore as _, ClientStore as _, UserStore as _};
use portcullis_proto::{ClientId, ScopeSet};
use portcullis_testkit::{AppOptions, spawn_app_with};

#[tokio::test]
async fn the_demo_user_is_ready_for_the_printed_authorization_url() {
    let app = spawn_app_with(AppOptions {
        sandbox: true,
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let user = app
        .store
        .user_by_email("demo@example.com")
        .await
        .unwrap()
        .expect("demo user");
    // The scopes of the printed URL, and everything the demo app may ask for.
    for scope in [
        "openid profile:read wallet:read",
        "orders:read orders:write users.balance:read",
    ] {
        let scope = ScopeSet::parse(scope).unwrap();
        let assessment = onboarding::assess(&app.store, &user.id, &scope)
            .await
            .unwrap();
        assert_eq!(assessment.step, None, "no onboarding step for {scope}");
        assert_eq!(assessment.ready.len(), 1);
    }
    let profile = &app.store.profiles_of(&user.id).await.unwrap()[0];
    let balances = app.store.balances_of(&profile.id).await.unwrap();
    assert_eq!(balances.len(), 1);
    assert_eq!(
        balances[0].amount, 100_000,
        "an opening balance of 1000.00 EUR"
    );
    let ibans = app.store.ibans_of(&profile.id).await.unwrap();
    assert!(
        ibans[0].iban.parse::<iban::Iban>().is_ok(),
        "a valid IBAN: {}",
        ibans[0].iban
    );
    // Restarting does not seed again.
    let app = app.restart().await.unwrap();
    assert_eq!(app.store.profiles_of(&user.id).await.unwrap().len(), 1);
    assert!(
        app.store
            .client(&ClientId::new("demo-app"))
            .await
            .unwrap()
            .is_some()
    );
}
