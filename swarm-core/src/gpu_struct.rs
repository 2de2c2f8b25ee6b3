//! Structs shared between Rust and WGSL, declared once and generated for both sides.
//!
//! [`gpu_struct!`] declares a `#[repr(C)]`, `bytemuck::Pod` Rust struct and records each field's
//! WGSL type, offset and size, from which [`GpuStruct::wgsl`] writes the WGSL declaration. Fields
//! are 4-byte scalars, so Rust's `repr(C)` and WGSL's host-shareable layout agree with no padding;
//! a test in `swarm-shader` checks naga's layout of the generated WGSL against these offsets.

/// A Rust type with a WGSL spelling.
pub trait WgslType {
    /// The WGSL type name.
    const WGSL: &'static str;
}

impl WgslType for u32 {
    const WGSL: &'static str = "u32";
}

impl WgslType for i32 {
    const WGSL: &'static str = "i32";
}

/// One field of a [`GpuStruct`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WgslField {
    /// Field name, the same in Rust and WGSL.
    pub name: &'static str,
    /// WGSL type.
    pub ty: &'static str,
    /// Byte offset in the Rust struct.
    pub offset: usize,
    /// Byte size in the Rust struct.
    pub size: usize,
}

/// A struct that lives in a GPU buffer with the same layout in Rust and WGSL.
pub trait GpuStruct: bytemuck::Pod {
    /// The struct's name, the same in Rust and WGSL.
    const NAME: &'static str;
    /// Its fields in declaration order.
    const FIELDS: &'static [WgslField];
    /// Its size in bytes.
    const SIZE: usize = size_of::<Self>();
    /// Its size in 32-bit words.
    const WORDS: u32 = (size_of::<Self>() / 4) as u32;

    /// The WGSL declaration of the struct.
    fn wgsl() -> String {
        let mut out = format!("struct {} {{\n", Self::NAME);
        for field in Self::FIELDS {
            out.push_str(&format!("    {}: {},\n", field.name, field.ty));
        }
        out.push_str("}\n");
        out
    }
}

/// Declares a struct shared with WGSL. Fields must be 4-byte scalars ([`WgslType`]).
macro_rules! gpu_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty ),*
        }

        impl $crate::GpuStruct for $name {
            const NAME: &'static str = stringify!($name);
            const FIELDS: &'static [$crate::WgslField] = &[
                $( $crate::WgslField {
                    name: stringify!($field),
                    ty: <$ty as $crate::WgslType>::WGSL,
                    offset: ::core::mem::offset_of!($name, $field),
                    size: ::core::mem::size_of::<$ty>(),
                } ),*
            ];
        }
    };
}

pub(crate) use gpu_struct;
