//! OpenAPI schemas of the domain's small enums, written here so that utoipa stays in `http/`:
//! each lists exactly what serde writes for every variant (tested below).

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::app::assertion::Method;
use crate::app::limiter::LockState;
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::factor::totp::Algorithm;

fn string_enum(values: &[&'static str], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .into()
}

impl PartialSchema for DeviceKind {
    fn schema() -> RefOr<Schema> {
        string_enum(
            &DeviceKind::ALL.map(DeviceKind::as_str),
            "The kind of device.",
        )
    }
}
impl ToSchema for DeviceKind {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DeviceKind")
    }
}

impl PartialSchema for DeviceStatus {
    fn schema() -> RefOr<Schema> {
        string_enum(
            &DeviceStatus::ALL.map(DeviceStatus::as_str),
            "`pending` until the first code, then `active`; `revoked` for good; `expired` (admin views\n             only): pending past its confirmation window.",
        )
    }
}
impl ToSchema for DeviceStatus {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DeviceStatus")
    }
}

impl PartialSchema for Method {
    fn schema() -> RefOr<Schema> {
        string_enum(
            &Method::ALL.map(Method::as_str),
            "How the second factor was proven.",
        )
    }
}
impl ToSchema for Method {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Method")
    }
}

impl PartialSchema for Algorithm {
    fn schema() -> RefOr<Schema> {
        string_enum(
            &Algorithm::ALL.map(Algorithm::as_str),
            "The HMAC of an OTP (RFC 6238 allows SHA-256 and SHA-512 besides SHA-1).",
        )
    }
}
impl ToSchema for Algorithm {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Algorithm")
    }
}

impl PartialSchema for LockState {
    fn schema() -> RefOr<Schema> {
        let count = |description: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::Integer))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(0))
                .description(Some(description))
        };
        let until = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("Set while the user is locked."));
        ObjectBuilder::new()
            .description(Some("A user's failure state."))
            .property(
                "failures",
                count("Consecutive failed attempts counted so far (attempts in flight included)."),
            )
            .required("failures")
            .property("locked_until", until)
            .property(
                "lock_level",
                count("Locks in the last day: the next lock lasts `base × 2^level`."),
            )
            .required("lock_level")
            .into()
    }
}

impl ToSchema for LockState {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("LockState")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enum values a schema lists.
    fn listed<T: PartialSchema>() -> Vec<serde_json::Value> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"].as_array().cloned().unwrap_or_default()
    }

    fn written<T: serde::Serialize>(all: &[T]) -> Vec<serde_json::Value> {
        all.iter()
            .map(|v| serde_json::to_value(v).unwrap())
            .collect()
    }

    #[test]
    fn each_schema_lists_what_serde_writes() {
        assert_eq!(listed::<DeviceKind>(), written(&DeviceKind::ALL));
        assert_eq!(listed::<DeviceStatus>(), written(&DeviceStatus::ALL));
        assert_eq!(listed::<Method>(), written(&Method::ALL));
        assert_eq!(listed::<Algorithm>(), written(&Algorithm::ALL));
        assert!(listed::<Algorithm>().contains(&serde_json::json!("SHA256")));
    }

    #[test]
    fn the_lock_state_schema_names_what_serde_writes() {
        let schema = serde_json::to_value(LockState::schema()).unwrap();
        let mut documented: Vec<_> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let state = LockState {
            failures: 3,
            locked_until: Some(chrono::Utc::now()),
            lock_level: 1,
        };
        let written = serde_json::to_value(state).unwrap();
        let mut keys: Vec<_> = written.as_object().unwrap().keys().cloned().collect();
        documented.sort();
        keys.sort();
        assert_eq!(documented, keys);
    }
}
