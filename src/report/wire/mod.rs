//! Wire types: the JSON documents as the README's contract spells them,
//! separate from the model they are built from.
//!
//! Why a second set of structs: the model (windows, analysis, pe, the
//! commands' results) is shaped for the rules and may change freely; the
//! JSON is a versioned promise to scripts. Each document here borrows from
//! the model and lists its keys in the order they are written, so a model
//! change cannot silently change the output, and another format (SARIF,
//! JUnit, HTML) is one more file under `report/` reading the same model.
//!
//! Nothing here names an image, volume or filesystem type: their values are
//! read through the fields of the commands' results, and enums are written
//! through their `Display` ([`Shown`]) or their `id()`.

mod diagnose;
mod disk;
mod iis_config;
mod info;
mod install;
mod loader;
mod rules;
mod store;
mod versions;

use std::fmt;

use serde::{Serialize, Serializer};

pub(super) use diagnose::Diagnosis;
pub(super) use info::Info;
pub(super) use rules::{OneRule, RuleDoc, RuleList};
pub(super) use versions::VersionRow;

/// A value written as the JSON string of its `Display` (versions, times,
/// the image format, severities).
pub(super) struct Shown<'a>(&'a dyn fmt::Display);

impl<'a> Shown<'a> {
    fn of<T: fmt::Display>(value: &'a Option<T>) -> Option<Shown<'a>> {
        value.as_ref().map(|v| Shown(v))
    }
}

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// The wire form of every item of a model list.
fn list<'a, M, W: From<&'a M>>(items: &'a [M]) -> Vec<W> {
    items.iter().map(W::from).collect()
}
