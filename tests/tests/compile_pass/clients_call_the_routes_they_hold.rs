// What each client may call compiles: user routes with a user client (or a team client
// acting as a member), "app, user" routes with an app or a user client.
use dropbox_api::files;

async fn calls(
    user: &dropbox_api::UserClient,
    team: &dropbox_api::TeamClient,
    app: &dropbox_api::AppClient,
) {
    let _ = files::get_metadata(user, &files::GetMetadataArg::new("/a")).await;
    let member = team.as_user("dbmid:1");
    let _ = files::get_metadata(&member, &files::GetMetadataArg::new("/a")).await;
    let _ = files::list_folder(app, &files::ListFolderArg::new("")).await;
    let _ = files::list_folder(user, &files::ListFolderArg::new("")).await;
}

fn main() {
    let _ = calls;
}
