// A client without credentials calls only routes with `auth = "noauth"`.
use dropbox_api::files;

async fn call(anyone: &dropbox_api::NoAuthClient) {
    let _ = files::list_folder(anyone, &files::ListFolderArg::new("")).await;
}

fn main() {
    let _ = call;
}
