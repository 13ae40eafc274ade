//! The `-dump-vmstate` model and the checker on small descriptions: bad
//! input is an error naming where, and each rule reports what it is for.

use vmstate_core::desc::{Field, FieldKind, Subsection, Vmsd};
use vmstate_migration::compat::{
    check, check_both, is_compatible, render_json, Direction, Kind, Severity,
};
use vmstate_migration::dump::{DumpOptions, VmstateDump};

fn u32f(name: &'static str) -> Field {
    Field::new(name, "uint32", FieldKind::Leaf).with_elem_size(4)
}

fn vmsd(
    name: &'static str,
    version: u32,
    fields: Vec<Field>,
    subs: Vec<Subsection>,
) -> &'static Vmsd {
    let fields: &'static [Field] = Box::leak(fields.into_boxed_slice());
    let subs: &'static [Subsection] = Box::leak(subs.into_boxed_slice());
    Box::leak(Box::new(Vmsd::new(name, version, 1, fields, subs)))
}

fn dump(v: &'static Vmsd) -> VmstateDump {
    VmstateDump::from_vmsds("pc", [("dev", v)])
}

fn kinds(a: &VmstateDump, b: &VmstateDump) -> Vec<(Kind, Severity)> {
    check(a, b).iter().map(|f| (f.kind, f.severity)).collect()
}

#[test]
fn bad_input_names_where() {
    let cases: &[(&str, &str)] = &[
        (
            "",
            "not a -dump-vmstate file: invalid JSON: EOF while parsing a value at line 1 column 0",
        ),
        ("[]", "not a -dump-vmstate file: expected a JSON object"),
        (
            r#"{"x": 1}"#,
            "not a -dump-vmstate file: at x: expected an object per device type",
        ),
        (
            r#"{"x": {"version_id": 1}}"#,
            "not a -dump-vmstate file: at x: expected \"Name\": a string",
        ),
        (
            r#"{"x": {"Name": "x", "version_id": 1, "minimum_version_id": 1,
                "Description": {"name": "x", "version_id": 1, "minimum_version_id": 1,
                "Fields": [{"field": "a", "version_id": 0, "field_exists": 0, "size": 1}]}}}"#,
            "not a -dump-vmstate file: at x/Description/Fields[0]: expected \"field_exists\": true or false",
        ),
        (
            r#"{"x": {"Name": "x", "version_id": 1, "minimum_version_id": 1,
                "Description": {"name": "x", "version_id": 1, "minimum_version_id": 1,
                "Subsections": [{"name": "s", "version_id": 1, "minimum_version_id": 1,
                "Fields": [{"field": "a", "version_id": 0, "field_exists": false, "size": -1}]}]}}}"#,
            "not a -dump-vmstate file: at x/Description/Subsections[0]/Fields[0]: expected \"size\": an unsigned integer",
        ),
    ];
    for (text, msg) in cases {
        let e = VmstateDump::parse(text.as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), *msg, "{text}");
    }
    // Nesting deeper than the JSON parser allows is an error, not a crash.
    let deep = "[".repeat(100_000);
    assert!(VmstateDump::parse(deep.as_bytes()).is_err());
}

#[test]
fn export_parses_back_and_empty_dump_is_json() {
    let inner = vmsd("inner", 2, vec![u32f("a").with_array_len(Some(3))], vec![]);
    let sub = vmsd("dev/sub", 1, vec![u32f("s").with_exists()], vec![]);
    let top = vmsd(
        "dev",
        3,
        vec![
            u32f("x").with_version(2),
            Field::new("inner", "struct", FieldKind::Struct).with_vmsd(Some(inner)),
            Field::new("unused", "unused_buffer", FieldKind::Unused).with_elem_size(6),
        ],
        vec![Subsection::new(sub, "sub", true)],
    );
    let d = dump(top);
    let typed = d.to_json(&DumpOptions::with_types());
    assert_eq!(VmstateDump::parse(typed.as_bytes()).unwrap(), d);
    let plain = d.to_json(&DumpOptions::qemu());
    assert!(!plain.contains("\"type\""));
    // A nested description's size: its fixed wire size.
    assert!(
        plain.contains(
            "\"field\": \"inner\",\n          \"version_id\": 0,\n          \"field_exists\": false,\n          \"size\": 12,"
        ),
        "{plain}"
    );
    let empty = VmstateDump {
        machine: None,
        types: vec![],
    }
    .to_json(&DumpOptions::qemu());
    assert_eq!(empty, "{\n\n}\n");
    assert!(VmstateDump::parse(empty.as_bytes())
        .unwrap()
        .types
        .is_empty());
}

#[test]
fn extra_rules() {
    let base = vmsd("dev", 1, vec![u32f("a"), u32f("b")], vec![]);
    // Same size, another type.
    let signed = vmsd(
        "dev",
        1,
        vec![
            u32f("a"),
            Field::new("b", "int32", FieldKind::Leaf).with_elem_size(4),
        ],
        vec![],
    );
    assert_eq!(
        kinds(&dump(base), &dump(signed)),
        [(Kind::TypeChanged, Severity::Incompatible)]
    );
    // A field appended: read but never sent.
    let added = vmsd("dev", 1, vec![u32f("a"), u32f("b"), u32f("c")], vec![]);
    assert_eq!(
        kinds(&dump(base), &dump(added)),
        [(Kind::FieldAdded, Severity::Incompatible)]
    );
    assert_eq!(
        kinds(&dump(added), &dump(base)),
        [(Kind::FieldMissing, Severity::Incompatible)]
    );
    // ... fine behind a new version of the section.
    let versioned = vmsd(
        "dev",
        2,
        vec![u32f("a"), u32f("b"), u32f("c").with_version(2)],
        vec![],
    );
    assert!(check(&dump(base), &dump(versioned)).is_empty());
    // Swapped.
    let swapped = vmsd("dev", 1, vec![u32f("b"), u32f("a")], vec![]);
    let f = check(&dump(base), &dump(swapped));
    assert_eq!(f[0].kind, Kind::FieldsReordered);
    assert_eq!(
        f[0].line("a", "b"),
        "dev: dev > a: fields reordered: the source sends a where the destination reads b (breaks a -> b)"
    );
    // A test now decides: a warning, compatible.
    let tested = vmsd("dev", 1, vec![u32f("a"), u32f("b").with_exists()], vec![]);
    let f = check(&dump(base), &dump(tested));
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].kind, f[0].severity),
        (Kind::FieldExistsChanged, Severity::Warning)
    );
    assert!(is_compatible(&f));
}

#[test]
fn array_length_in_a_nested_description() {
    let three = vmsd("inner", 1, vec![u32f("a").with_array_len(Some(3))], vec![]);
    let four = vmsd("inner", 1, vec![u32f("a").with_array_len(Some(4))], vec![]);
    let outer = |inner| {
        vmsd(
            "dev",
            1,
            vec![Field::new("s", "struct", FieldKind::Struct).with_vmsd(Some(inner))],
            vec![],
        )
    };
    let f = check_both(&dump(outer(three)), &dump(outer(four)));
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].kind, Kind::ArrayLengthChanged);
    assert_eq!(f[0].path, ["dev", "s", "inner", "a"]);
    assert_eq!(
        (f[0].src.as_deref(), f[0].dest.as_deref()),
        (Some("3"), Some("4"))
    );
    assert_eq!(f[1].direction, Direction::Backward);
    let json: serde_json::Value = serde_json::from_str(&render_json(&f, "old", "new")).unwrap();
    assert_eq!(json["compatible"], false);
    assert_eq!(json["findings"][0]["kind"], "array_length_changed");
    assert_eq!(json["findings"][0]["qemu_rule"], false);
    assert_eq!(json["findings"][1]["breaks"], "backward");
    assert_eq!(json["findings"][1]["from"], "new");
}

#[test]
fn subsections_and_versions() {
    let sub = vmsd("dev/sub", 1, vec![u32f("s")], vec![]);
    let plain = vmsd("dev", 1, vec![u32f("a")], vec![]);
    let with_sub = vmsd(
        "dev",
        1,
        vec![u32f("a")],
        vec![Subsection::new(sub, "sub", true)],
    );
    assert!(check(&dump(plain), &dump(with_sub)).is_empty());
    let f = check(&dump(with_sub), &dump(plain));
    assert_eq!(f[0].kind, Kind::SubsectionMissing);
    assert_eq!(f[0].path, ["dev", "dev/sub"]);
    let newer = vmsd("dev", 2, vec![u32f("a")], vec![]);
    assert!(check(&dump(plain), &dump(newer)).is_empty());
    assert_eq!(
        kinds(&dump(newer), &dump(plain)),
        [
            (Kind::VersionTooNew, Severity::Incompatible),
            (Kind::VersionTooNew, Severity::Incompatible)
        ]
    );
}

/// Random edits of a dump (keys dropped, values of the wrong type, lists
/// emptied or repeated, huge numbers): parsing fails with an error or
/// succeeds, and checking never panics, both ways.
#[test]
fn hostile_dumps_never_panic() {
    use serde_json::{json, Value};
    let sub = vmsd("dev/sub", 1, vec![u32f("s")], vec![]);
    let inner = vmsd("inner", 2, vec![u32f("a").with_array_len(Some(3))], vec![]);
    let top = vmsd(
        "dev",
        3,
        vec![
            u32f("x"),
            Field::new("inner", "struct", FieldKind::Struct).with_vmsd(Some(inner)),
            Field::new("unused", "unused_buffer", FieldKind::Unused).with_elem_size(6),
            u32f("y"),
        ],
        vec![Subsection::new(sub, "sub", true)],
    );
    let base: Value = serde_json::from_str(&dump(top).to_json(&DumpOptions::with_types())).unwrap();
    let good = VmstateDump::parse(base.to_string().as_bytes()).unwrap();
    // xorshift: deterministic, no dependency.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    /// Every node of `v`, as a path of keys and indices.
    fn paths(
        v: &Value,
        cur: &mut Vec<Result<String, usize>>,
        out: &mut Vec<Vec<Result<String, usize>>>,
    ) {
        out.push(cur.clone());
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    cur.push(Ok(k.clone()));
                    paths(x, cur, out);
                    cur.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    cur.push(Err(i));
                    paths(x, cur, out);
                    cur.pop();
                }
            }
            _ => {}
        }
    }
    fn at<'a>(v: &'a mut Value, path: &[Result<String, usize>]) -> &'a mut Value {
        path.iter().fold(v, |v, step| match step {
            Ok(k) => &mut v[k.as_str()],
            Err(i) => &mut v[*i],
        })
    }
    let replacements = [
        json!(null),
        json!(-1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!("unused"),
        json!([]),
        json!({}),
        json!(true),
        json!(1e300),
    ];
    let (mut parsed, mut failed) = (0, 0);
    for _ in 0..3000 {
        let mut v = base.clone();
        for _ in 0..1 + next(3) {
            let mut all = Vec::new();
            paths(&v, &mut Vec::new(), &mut all);
            let node = at(&mut v, &all[next(all.len())]);
            match next(4) {
                0 => *node = replacements[next(replacements.len())].clone(),
                1 => {
                    if let Value::Object(o) = node {
                        let keys: Vec<String> = o.keys().cloned().collect();
                        if !keys.is_empty() {
                            o.remove(&keys[next(keys.len())]);
                        }
                    }
                }
                2 => {
                    if let Value::Array(a) = node {
                        if let Some(first) = a.first().cloned() {
                            a.push(first);
                        }
                    }
                }
                _ => {
                    if let Value::Array(a) = node {
                        a.clear();
                    }
                }
            }
        }
        match VmstateDump::parse(v.to_string().as_bytes()) {
            Ok(d) => {
                parsed += 1;
                let _ = check_both(&d, &good);
                let _ = check_both(&d, &d);
            }
            Err(_) => failed += 1,
        }
    }
    assert!(
        parsed > 300 && failed > 300,
        "{parsed} parsed, {failed} rejected"
    );
}
