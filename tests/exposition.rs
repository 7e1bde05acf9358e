//! Every test spec's output passes `promtool check metrics` with no lint
//! warning and the Python prometheus_client parser.

use crate::embedded::{
    bad_input, exactly_once, features, http_json, once, optional_run_as, shared_file,
};
use crate::util::assert_valid_exposition;

#[test]
fn every_test_spec_gives_valid_exposition() {
    let _files = crate::util::shared_files();
    crate::util::http_server::start();
    std::fs::create_dir_all("/tmp/pme-tests/exactly-once").unwrap();
    // Its files may be missing (another test owns them): the output must be valid either way.
    let plans = [
        &features::PLAN,
        &exactly_once::PLAN,
        &bad_input::PLAN,
        // run_as::PLAN needs its own user; tests/run_as.rs checks its output.
        &optional_run_as::PLAN,
        &shared_file::PLAN,
        &http_json::PLAN,
    ];
    for plan in plans {
        let (body, _) = once(plan);
        assert!(
            body.contains("# TYPE pme_source_up gauge"),
            "{}: {body}",
            plan.spec
        );
        assert_valid_exposition(body.as_bytes());
    }
}
