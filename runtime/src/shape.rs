//! Struct families: when many structs of a namespace share one field list, the generated
//! crate emits one generic struct `Shape<K>` and a type alias `Name = Shape<kinds::Name>` per
//! struct. The marker `K` keeps the structs distinct types and, through [`Kind`], gives
//! `Debug` output and decode errors the struct's own name.

/// A marker type of a struct family: names the struct of the spec it stands for.
pub trait Kind {
    /// The struct's name.
    const NAME: &'static str;
}
