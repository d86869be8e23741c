//! Micro-benchmarks of the service's hot pure functions, through its public API:
//! `cargo bench -p twofold-bench` (about 30 s after the build; `-- --quick` for less).
//!
//! - TOTP check: one 6-digit SHA1 code against a window of 3 steps (what verify computes per
//!   device), for a right and a wrong code (same cost by design: constant time, SEC-18).
//! - Seal and open a 20-byte seed (AES-256-GCM with the device id as associated data).
//! - QR code of an otpauth URI, SVG and PNG (enroll, qr.svg, qr.png).
//! - Assertion: sign (and verify) a JWT. `Assertions` is only built by `Assertions::load` from a
//!   database, so the bench gives it a throw-away SQLite file.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use twofold::app::assertion::{Assertions, Method};
use twofold::config::DatabaseUrl;
use twofold::crypto::Keys;
use twofold::db::Db;
use twofold::factor::totp::{self, Params};

const SEED: [u8; 20] = *b"12345678901234567890";
const NOW: i64 = 1_700_000_000;

fn totp_check(c: &mut Criterion) {
    let params = Params::default();
    let right = totp::code_at_step(&SEED, params, totp::step_at(NOW, 30));
    let valid: Vec<String> = (-1..=1)
        .map(|d| totp::code_at_step(&SEED, params, (totp::step_at(NOW, 30) as i64 + d) as u64))
        .collect();
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !valid.contains(c))
        .expect("some code is wrong");
    c.bench_function("totp_check_window3_right", |b| {
        b.iter(|| totp::matching_step(black_box(&SEED), params, black_box(&right), NOW, 1))
    });
    c.bench_function("totp_check_window3_wrong", |b| {
        b.iter(|| totp::matching_step(black_box(&SEED), params, black_box(&wrong), NOW, 1))
    });
}

fn seal_open(c: &mut Criterion) {
    let keys = Keys::from_master(&[7u8; 32]);
    let aad = b"device-AAAAAAAAAAAAAAAAAAAAAA";
    c.bench_function("seal_20_byte_seed", |b| {
        b.iter(|| keys.seal(black_box(&SEED), aad).expect("seal"))
    });
    let sealed = keys.seal(&SEED, aad).expect("seal");
    c.bench_function("open_20_byte_seed", |b| {
        b.iter(|| {
            keys.open(keys.key_id(), black_box(&sealed), aad)
                .expect("open")
        })
    });
}

fn qr(c: &mut Criterion) {
    let uri = totp::otpauth_uri("twofold", "bench-0000001", &SEED, Params::default());
    c.bench_function("qr_svg_otpauth_uri", |b| {
        b.iter(|| twofold::factor::qr::svg(black_box(&uri)).expect("svg"))
    });
    c.bench_function("qr_png_otpauth_uri", |b| {
        b.iter(|| twofold::factor::qr::png(black_box(&uri)).expect("png"))
    });
}

fn assertion(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let url = DatabaseUrl::Sqlite(dir.path().join("bench.db"));
    let assertions = rt.block_on(async {
        let db = Db::new(&url, 1, Duration::from_secs(10)).expect("db");
        db.migrate().await.expect("migrate");
        let keys = Arc::new(Keys::from_master(&[7u8; 32]));
        Assertions::load(
            &db,
            keys,
            "http://127.0.0.1:8080".into(),
            Duration::from_secs(300),
            chrono::Utc::now(),
        )
        .await
        .expect("signing key")
    });
    let now = chrono::Utc::now();
    c.bench_function("assertion_sign", |b| {
        b.iter(|| {
            assertions
                .issue(
                    now,
                    "default",
                    black_box("bench-0000001"),
                    Some("D1"),
                    Method::Totp,
                )
                .expect("issue")
        })
    });
    let token = assertions
        .issue(now, "default", "bench-0000001", Some("D1"), Method::Totp)
        .expect("issue");
    c.bench_function("assertion_verify", |b| {
        b.iter(|| assertions.verify(black_box(&token), now).expect("verify"))
    });
}

fn config() -> Criterion {
    // Short on purpose: the whole suite in well under two minutes, precise enough to compare.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = micro;
    config = config();
    targets = totp_check, seal_open, qr, assertion
}
criterion_main!(micro);
