//! The findings as text (one line each) and as JSON.

use serde_json::{json, Value};

use super::finding::{Direction, Finding, Severity};
use super::is_compatible;

/// One line per finding ([`Finding::line`]), each ending in a newline;
/// `src` and `dest` name the two sides.
pub fn render_lines(findings: &[Finding], src: &str, dest: &str) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&f.line(src, dest));
        out.push('\n');
    }
    out
}

/// `{"compatible": bool, "findings": [...]}`, each finding with `device`,
/// `path`, `kind`, `severity`, `qemu_rule`, `breaks` (`forward` or
/// `backward`), `from`, `to`, `src`, `dest` and `message`.
pub fn render_json(findings: &[Finding], src: &str, dest: &str) -> String {
    let list: Vec<Value> = findings
        .iter()
        .map(|f| {
            let (dir, from, to) = match f.direction {
                Direction::Forward => ("forward", src, dest),
                Direction::Backward => ("backward", dest, src),
            };
            json!({
                "device": f.device,
                "path": f.path,
                "kind": f.kind.as_str(),
                "severity": match f.severity {
                    Severity::Incompatible => "incompatible",
                    Severity::Warning => "warning",
                },
                "qemu_rule": f.kind.qemu_rule(),
                "breaks": dir,
                "from": from,
                "to": to,
                "src": f.src,
                "dest": f.dest,
                "message": f.message,
            })
        })
        .collect();
    let doc = json!({ "compatible": is_compatible(findings), "findings": list });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
