//! KMS's side of the API: its protocol (JSON 1.1, [`json`]), the conversion between the wire
//! and the KMS ([`convert`]), and the one error map of every protocol ([`errors`]).

pub mod convert;
pub mod errors;
pub(crate) mod json;
