//! The opening that claims a link refreshes to the page's own path, built from the route and the
//! token: nothing a crafted query string carries reaches the page.

use crate::helpers::{Backend, spawn_app};
use crate::pages_links::{Browser, assert_refresh, link, page};

async fn the_claiming_refresh_ignores_the_query_string(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    for purpose in ["verify", "enroll"] {
        let l = link(&app, "alice", purpose, None).await;
        let crafted = format!(
            "{}?recovery=1&next=%22%3E%3Ca%20href=%22https://evil.example/%22%3E;url=https://evil.example/",
            l.path
        );
        let mut b = Browser::new(&app);
        let html = page(b.get(&crafted).await, 200).await;
        assert_refresh(&html, &l);
        assert!(!html.contains("evil.example"), "{html}");
        assert!(!html.contains("next="), "{html}");
    }
}

crate::both_backends!(the_claiming_refresh_ignores_the_query_string);
