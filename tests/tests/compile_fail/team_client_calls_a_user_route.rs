// A team client is not a user client: it reaches user routes only through `as_user`.
use dropbox_api::files;

async fn call(team: &dropbox_api::TeamClient) {
    let _ = files::get_metadata(team, &files::GetMetadataArg::new("/a")).await;
}

fn main() {
    let _ = call;
}
