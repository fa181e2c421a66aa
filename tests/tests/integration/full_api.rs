//! The generated crate on the whole official API (`cfg(full_api)`, set by `build.rs` when
//! `generated/` has the `sharing`, `team` and `users` modules, as after vendoring the
//! official spec; `cargo xtask fullspec` runs this in its scratch copy): paginators of other
//! namespaces than `files` exist with the names and types the rule gives, and run against the
//! emulator, which answers the routes it does not emulate with a typed, permanent 400.

#[cfg(not(full_api))]
#[test]
fn skipped_without_the_official_spec() {
    println!(
        "skipped: generated/ holds our own spec slice; vendor the official spec into specs/ \
         and run `cargo xtask codegen` (or `cargo xtask fullspec`) to run these tests"
    );
}

#[cfg(full_api)]
mod full {
    use dbx_emulator::Emulator;
    use dropbox_api::{
        ClientBuilder, Error, PageError, TeamClient, UserClient, files, sharing, team,
    };
    use futures_util::{StreamExt, TryStreamExt};

    /// Paginators outside `files` exist and have the types the rule gives; this only has to
    /// compile (it is never awaited).
    #[allow(dead_code)]
    async fn paginators_of_other_namespaces(user: &UserClient, team: &TeamClient) {
        let arg = sharing::ListFoldersArgs::new();
        let folders: Result<Vec<sharing::SharedFolderMetadata>, _> =
            sharing::list_folders_stream(user, &arg).try_collect().await;
        let _ = folders;
        let mut pages = std::pin::pin!(sharing::list_folders_pages(user, &arg));
        if let Some(Ok(page)) = pages.next().await {
            let _: Option<dropbox_api::Str> = page.cursor;
        }
        let resumed = sharing::list_folders_pages_from(user, "saved-cursor".to_string());
        drop(resumed);
        let arg = team::MembersListArg::new();
        let members: Result<Vec<team::TeamMemberInfoV2>, _> =
            team::members_list_v2_stream(team, &arg).try_collect().await;
        let _ = members;
    }

    #[tokio::test]
    async fn an_unemulated_paginator_fails_typed_on_its_first_page() {
        let emu = Emulator::for_tests().await.expect("emulator");
        let client = ClientBuilder::new()
            .access_token(emu.access_token())
            .base_url(emu.base_url())
            .build_user()
            .expect("client");
        let arg = sharing::ListFoldersArgs::new();
        let mut stream = std::pin::pin!(sharing::list_folders_stream(&client, &arg));
        match stream.next().await {
            Some(Err(PageError::First(Error::BadRequest { message, .. }))) => {
                assert!(message.contains("sharing/list_folders"), "{message}");
                assert!(message.contains("does not implement"), "{message}");
            }
            other => panic!("expected a typed 400 on the first page, got {other:?}"),
        }
        assert!(
            stream.next().await.is_none(),
            "the stream ends after its error"
        );
        // One call: a 400 is permanent, not retried.
        assert_eq!(emu.stats().calls("sharing/list_folders"), 1);
        // A route the emulator does serve still works on the full crate.
        let root = files::list_folder(&client, &files::ListFolderArg::new(""))
            .await
            .expect("list the root");
        assert!(root.entries.is_empty() && !root.has_more);
        emu.shutdown().await;
    }
}
