//! Query API responses captured from Prometheus 2.42 over data it scraped from the
//! prometheus_client app (`tests/peers/capture_fixtures.sh`): vector, matrix, scalar,
//! NaN quantiles and an error response.

use proptest::prelude::*;
use redline::sources::{QueryData, QueryError, parse_query_response, values_by_module};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn vector(name: &str) -> Vec<(String, f64)> {
    let response = parse_query_response(&fixture(name)).expect("success");
    let QueryData::Vector(samples) = response.data else {
        panic!("{name}: not a vector")
    };
    let (values, missing) = values_by_module(&samples, "handler");
    assert_eq!(missing, 0);
    values
}

#[test]
fn a_rate_vector_maps_to_modules() {
    let rates = vector("query_vector.json");
    let names: Vec<&str> = rates.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(names, vec!["/api", "/new", "/slow"]);
    // The capture drove 55 /api requests a second (50 ok + 5 errors) and 10 to /slow.
    assert_eq!(rates[0].1, 55.0);
    assert_eq!(rates[2].1, 10.0);
}

#[test]
fn a_quantile_of_an_idle_series_is_nan_and_kept() {
    let p95 = vector("query_p95.json");
    assert!(p95[1].1.is_nan(), "/new had no traffic: {p95:?}");
    assert!((0.25..=0.5).contains(&p95[0].1), "{p95:?}");
}

#[test]
fn a_range_matrix_fills_the_window() {
    let response = parse_query_response(&fixture("query_range_matrix.json")).expect("success");
    let QueryData::Matrix(series) = response.data else {
        panic!()
    };
    assert_eq!(series.len(), 3);
    let api = &series[0];
    assert_eq!(api.labels["handler"], "/api");
    assert!(api.points.len() >= 5);
    assert!(
        api.points.windows(2).all(|w| w[1].0 - w[0].0 == 1.0),
        "1 s steps"
    );
}

#[test]
fn scalars_and_errors() {
    let response = parse_query_response(&fixture("query_scalar.json")).expect("success");
    assert!(matches!(response.data, QueryData::Scalar(_, v) if v > 0.0));
    let error = parse_query_response(&fixture("query_error.json")).unwrap_err();
    assert!(matches!(&error, QueryError::Api { error_type, .. } if error_type == "bad_data"));
    assert!(
        error
            .to_string()
            .starts_with("query API error (bad_data): invalid parameter")
    );
    assert!(matches!(
        parse_query_response("<html>"),
        Err(QueryError::Json(_))
    ));
}

proptest! {
    #[test]
    fn any_text_is_handled_without_panicking(text in r#"[\[\]{}",:0-9a-zNI.\- ]{0,160}"#) {
        let _ = parse_query_response(&text);
    }
}
