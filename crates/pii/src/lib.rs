//! French personal-data primitives shared by every stage of leaktrace.
//!
//! * [`ColumnType`]: the column-type vocabulary used by `scan`, `enroll` and `analyze`.
//! * Validators and normalisers: [`nir`], [`phone`], [`email`], [`iban`], [`ident`] (generic
//!   identifiers), [`date`], [`text`].
//! * [`mask`]: how a value may be shown (never whole).
//! * [`refdata`]: INSEE communes, first names, surnames, ROME codes and departments,
//!   embedded in the binary (see `data/fr/README.md` for sources and licences).

pub mod date;
pub mod display;
pub mod email;
pub mod iban;
pub mod ident;
pub mod mask;
pub mod name;
pub mod nir;
pub mod phone;
pub mod refdata;
pub mod text;
mod types;

pub use types::ColumnType;
