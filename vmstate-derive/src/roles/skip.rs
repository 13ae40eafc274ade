//! `skip`: a field that is not migrated.

use super::{conflicts, FieldRole};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::symbol::{Symbol, SKIP};

pub struct Skip;

impl FieldRole for Skip {
    fn key(&self) -> Option<Symbol> {
        Some(SKIP)
    }

    fn on_wire(&self) -> bool {
        false
    }

    fn check_keys(&self, cx: &Ctxt, a: &attr::Field) {
        conflicts(cx, SKIP, &super::entry_keys(a));
    }
}
