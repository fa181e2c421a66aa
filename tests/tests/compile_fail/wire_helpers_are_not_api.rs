// The wire-format helpers are for generated code: neither crate exports them as API.
fn main() {
    let _ = dropbox_api::wire::TAG;
    let _ = dropbox_api_runtime::wire::TAG;
}
