//! Any environment (lines `KEY=value`, prefixed TWOFOLD_) and any config file: loading answers a
//! configuration or an error naming a key, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String)| {
    let (env, file) = input;
    let pairs: Vec<(String, String)> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (format!("TWOFOLD_{k}"), v.to_string()))
        .collect();
    // The data dir is where a development master key would be generated: keep it away.
    let dir = std::env::temp_dir().join(format!("twofold-fuzz-{}", std::process::id()));
    let mut pairs = pairs;
    pairs.retain(|(k, _)| k != "TWOFOLD_DATA_DIR");
    pairs.push(("TWOFOLD_DATA_DIR".into(), dir.display().to_string()));
    let _ = twofold::config::Config::load_from(None, pairs.clone());
    let path = dir.with_extension("toml");
    if std::fs::write(&path, file).is_ok() {
        let _ = twofold::config::Config::load_from(Some(&path), pairs);
    }
});
