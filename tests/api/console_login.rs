//! The console's sign-in limit counts wrong keys only, and never refuses a valid admin key: many
//! clients can share one address (a proxy whose `X-Forwarded-For` is not trusted), and wrong keys
//! posted from it must not lock the real admin out.

use crate::console::{Browser, location};
use crate::helpers::{Backend, spawn_app};

async fn wrong_keys_are_limited_and_the_right_key_still_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut b = Browser::new(&app);
    for n in 0..20 {
        let res = b.sign_in(&format!("tfk_wrong-{n}")).await;
        assert_eq!(res.status(), 401, "wrong key {n}");
    }
    for key in ["tfk_wrong-again", app.client_key.as_str()] {
        let res = b.sign_in(key).await;
        assert_eq!(res.status(), 429, "past the limit");
        assert!(res.headers().contains_key("retry-after"));
    }
    // The same address, past the limit: the admin's own key signs in.
    let res = b.sign_in(&app.admin_key).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/users")
    );
    assert!(b.page("/admin/users").await.contains("Sign out"));
    // And wrong keys are still refused.
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in("tfk_wrong-later").await.status(), 429);
}

crate::both_backends!(wrong_keys_are_limited_and_the_right_key_still_signs_in);
