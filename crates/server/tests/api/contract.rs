//! Checks answers against the OpenAPI document: every JSON answer that
//! `helpers::parts` reads is validated here, so the whole suite proves that
//! each documented response is the one the route really sends.

use std::sync::OnceLock;

use serde_json::{Value, json};
use tessera_server::http::{DialectKind, matches_pattern};

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::to_value(tessera_server::openapi::document()).unwrap())
}

/// The documented path template `path` falls under, if any.
pub fn template(path: &str) -> Option<&'static str> {
    spec()["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|t| matches_pattern(t, path))
        .map(String::as_str)
}

fn error_schema(path: &str) -> &'static str {
    match DialectKind::of(path) {
        DialectKind::Legacy => "LegacyAnswer",
        DialectKind::V1 => "V1Error",
        // The pages are not in the document: `check` returns before this.
        DialectKind::Modern | DialectKind::Pages => "Error",
    }
}

/// Panics when `body`, answered with `status` at `path`, is not what the
/// document says that route sends.
pub fn check(path: &str, status: u16, body: &Value) {
    let Some(t) = template(path) else { return };
    let item = &spec()["paths"][t];
    let schemas: Vec<&Value> = if status == 405 {
        // Any known path, wrong method: the dialect's error shape (see the
        // document's description).
        vec![&spec()["components"]["schemas"][error_schema(path)]]
    } else {
        let documented: Vec<&Value> = ["get", "post", "delete"]
            .iter()
            .filter_map(|m| item.get(*m))
            .filter_map(|op| op["responses"].get(status.to_string()))
            .collect();
        assert!(
            !documented.is_empty(),
            "{path}: status {status} is not documented; body {body}"
        );
        documented
            .iter()
            .filter_map(|r| r["content"].get("application/json"))
            .map(|c| &c["schema"])
            .collect()
    };
    assert!(
        !schemas.is_empty(),
        "{path}: {status} is documented without a JSON body, but the answer is {body}"
    );
    let errors: Vec<String> = schemas
        .iter()
        .filter_map(|s| validate(s, body, "$").err())
        .collect();
    assert!(
        errors.len() < schemas.len(),
        "{path} {status}: the answer does not match the OpenAPI document: {errors:?}\nbody: {body}"
    );
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            let s = &spec()["components"]["schemas"][name];
            assert!(!s.is_null(), "dangling {r}");
            s
        }
        None => schema,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// A small JSON Schema check: `$ref`, `type` (one or a list), `oneOf`/`anyOf` (as any-of),
/// `properties` + `required` (objects with `properties` are closed: a key
/// the document does not list is an error), `additionalProperties`, `items`.
pub fn validate(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(schema);
    if let Some(one_of) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let errs: Vec<String> = one_of
            .iter()
            .filter_map(|s| validate(s, v, at).err())
            .collect();
        return if errs.len() < one_of.len() {
            Ok(())
        } else {
            Err(format!("{at}: none of oneOf: {errs:?}"))
        };
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(t, v) => {
            return Err(format!("{at}: {v} is not {t}"));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_matches(t.as_str().unwrap(), v)) => {
            return Err(format!("{at}: {v} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Value::Object(o) = v {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for req in schema["required"].as_array().into_iter().flatten() {
                let k = req.as_str().unwrap();
                if !o.contains_key(k) {
                    return Err(format!("{at}: required key {k} missing"));
                }
            }
            for (k, val) in o {
                match props.get(k) {
                    Some(s) => validate(s, val, &format!("{at}.{k}"))?,
                    None => return Err(format!("{at}: key {k} is not documented")),
                }
            }
        } else if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object()) {
            for (k, val) in o {
                validate(extra, val, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(s, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

#[test]
fn the_check_refuses_a_missing_key_an_extra_key_and_a_wrong_type() {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let good = json!({"error": "e", "message": "m", "msg": "m", "code": "c"});
    assert!(validate(&error, &good, "$").is_ok());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("code");
    assert!(validate(&error, &missing, "$").is_err());
    let mut extra = good.clone();
    extra["surprise"] = json!(1);
    assert!(validate(&error, &extra, "$").is_err());
    let mut wrong = good;
    wrong["code"] = json!(7);
    assert!(validate(&error, &wrong, "$").is_err());
    let login = json!({"$ref": "#/components/schemas/LegacyLogin"});
    let failed = json!({"Code": 501, "Msg": "x", "Token": null, "UserID": null});
    assert!(
        validate(&login, &failed, "$").is_ok(),
        "nullable fields accept null"
    );
}
