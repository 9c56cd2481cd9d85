//! `#[derive(Options)]`: a strict `FromNapiValue` for the options structs of `@marque/node`.
//!
//! napi's `#[napi(object)]` conversion reads the fields it knows and ignores every other key, so
//! a misspelt option (`resource_prefix` for `resourcePrefix`) would be dropped silently. A struct
//! declared `#[napi(object, object_to_js = false, object_from_js = false)]` and
//! `#[derive(Options)]` keeps napi's TypeScript interface, and gets a conversion that first
//! checks the object's own keys against the struct's fields — their JS names, derived here from
//! the field names the way napi derives them (`to_key` → `toKey`) — then reads each field. The
//! check itself is `crate::options::Strict` in the binding; this crate only writes the names.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields};

/// napi's JS name of a snake_case field: `resource_prefix` → `resourcePrefix`.
fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Implements `FromNapiValue` (unknown keys refused, then each field read) and
/// `ValidateNapiValue` for a struct with named fields.
#[proc_macro_derive(Options)]
pub fn derive_options(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let name = &input.ident;
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => &f.named,
            _ => return syn::Error::new_spanned(name, "Options needs named fields").to_compile_error().into(),
        },
        _ => return syn::Error::new_spanned(name, "Options is for structs").to_compile_error().into(),
    };
    let idents: Vec<_> = fields.iter().filter_map(|f| f.ident.clone()).collect();
    let js: Vec<String> = idents.iter().map(|i| camel(&i.to_string())).collect();
    let js_nul: Vec<syn::LitByteStr> =
        js.iter().map(|n| syn::LitByteStr::new(format!("{n}\0").as_bytes(), proc_macro2::Span::call_site())).collect();
    let what = name.to_string();
    quote! {
        impl napi::bindgen_prelude::FromNapiValue for #name {
            unsafe fn from_napi_value(
                env: napi::sys::napi_env,
                value: napi::sys::napi_value,
            ) -> napi::Result<Self> {
                // SAFETY: the handles napi passed in, used within this call.
                let o = unsafe { crate::options::Strict::new(env, value, #what, &[#(#js),*]) }?;
                // SAFETY: same call; every name is NUL-terminated.
                Ok(#name { #( #idents: unsafe { o.field(#js_nul) }? ),* })
            }
        }

        impl napi::bindgen_prelude::ValidateNapiValue for #name {
            unsafe fn validate(
                env: napi::sys::napi_env,
                value: napi::sys::napi_value,
            ) -> napi::Result<napi::sys::napi_value> {
                // SAFETY: the handles napi passed in, used within this call.
                unsafe { crate::convert::reject_unless::<#name>(env, value) }
            }
        }
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::camel;

    #[test]
    fn js_names_are_napi_camel_case() {
        for (snake, js) in [
            ("to", "to"),
            ("to_key", "toKey"),
            ("resource_prefix", "resourcePrefix"),
            ("max_revocation_staleness", "maxRevocationStaleness"),
            ("replay_cache_per_key", "replayCachePerKey"),
            ("r#type", "type"),
        ] {
            assert_eq!(camel(snake), js);
        }
    }
}
