//! Struct families: when many structs of a namespace share one field list, the generated
//! crate emits one generic struct `Family<K>` and a type alias `Name = Family<family::Name>`
//! per struct. The marker `K` keeps the structs distinct types and, through [`Member`],
//! gives `Debug` output and decode errors the struct's own name.

/// The marker type of one struct of a family: names the struct of the spec it stands for.
pub trait Member {
    /// The struct's name.
    const NAME: &'static str;
}
