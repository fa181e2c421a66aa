//! The generated paginators against the emulator over HTTP: `files::list_folder_stream`
//! yields every entry of a large folder exactly once, page by page; an error on a page
//! surfaces typed (and a transient one is retried by the lifecycle); a listing resumes from
//! a saved cursor where it stopped.

use std::collections::BTreeSet;
use std::time::Duration;

use dbx_emulator::{EmulatorHandle, FaultAction, FaultRule};
use dropbox_api::files::{self, CreateFolderArg, ListFolderArg, Metadata};
use dropbox_api::{ClientBuilder, PageError, RetryPolicy, UserClient};
use futures_util::{StreamExt, TryStreamExt, stream};

const ENTRIES: usize = 2500;
const PAGE: u32 = 100;

fn client(emu: &EmulatorHandle, policy: RetryPolicy) -> UserClient {
    ClientBuilder::new()
        .access_token(emu.access_token())
        .base_url(emu.base_url())
        .retry_policy(policy)
        .build_user()
        .expect("client")
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().delays(Duration::from_millis(5), Duration::from_millis(20))
}

async fn folder_of(client: &UserClient, n: usize) -> BTreeSet<String> {
    let paths: Vec<String> = (0..n).map(|i| format!("/big/e{i:04}")).collect();
    stream::iter(paths.clone())
        .map(|p| async move {
            files::create_folder_v2(client, &CreateFolderArg::new(p))
                .await
                .expect("create folder")
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    paths.into_iter().collect()
}

fn path_of(m: &Metadata) -> String {
    let lower = match m {
        Metadata::File(f) => f.path_lower.clone(),
        Metadata::Folder(f) => f.path_lower.clone(),
        Metadata::Deleted(d) => d.path_lower.clone(),
    };
    lower.unwrap_or_default().into()
}

fn arg() -> ListFolderArg {
    let mut arg = ListFolderArg::new("/big");
    arg.limit = Some(PAGE);
    arg
}

#[tokio::test]
async fn a_folder_of_2500_entries_is_listed_exactly_once_in_pages_of_100() {
    let emu = crate::common::start().await;
    let c = client(&emu, quick_retries());
    let expected = folder_of(&c, ENTRIES).await;
    let before = emu.stats().calls("files/list_folder/continue");
    let entries: Vec<Metadata> = files::list_folder_stream(&c, &arg())
        .try_collect()
        .await
        .expect("listing");
    let seen: Vec<String> = entries.iter().map(path_of).collect();
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), ENTRIES, "every entry once, none twice");
    assert_eq!(unique, expected);
    let continues = emu.stats().calls("files/list_folder/continue") - before;
    assert!(
        continues >= (ENTRIES / PAGE as usize - 1) as u64,
        "{continues} continue calls for {ENTRIES} entries in pages of {PAGE}"
    );
}

#[tokio::test]
async fn an_error_on_page_7_is_the_last_item_and_typed() {
    let emu = crate::common::start().await;
    let setup = client(&emu, quick_retries());
    folder_of(&setup, 1000).await;
    // The sixth continue call is page 7.
    let mut rule = FaultRule::new("files/list_folder/continue", FaultAction::InternalError);
    rule.every_nth = Some(6);
    rule.max_times = Some(1);
    emu.faults().add(rule);
    let c = client(&emu, RetryPolicy::none());
    let pages: Vec<_> = files::list_folder_pages(&c, &arg()).collect().await;
    assert_eq!(pages.len(), 7, "six pages, then the error, then nothing");
    assert!(pages[..6].iter().all(|p| p.is_ok()));
    match &pages[6] {
        Err(PageError::Next(e)) => {
            assert!(e.is_transient(), "a 500 is transient: {e}");
            assert!(e.to_string().contains("500"), "{e}");
        }
        other => panic!("expected the continue call's error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_transient_failure_on_a_page_is_retried_by_the_lifecycle() {
    let emu = crate::common::start().await;
    let c = client(&emu, quick_retries());
    let expected = folder_of(&c, 700).await;
    let mut rule = FaultRule::new(
        "files/list_folder/continue",
        FaultAction::ServiceUnavailable,
    );
    rule.every_nth = Some(3);
    rule.max_times = Some(2);
    emu.faults().add(rule);
    let entries: Vec<Metadata> = files::list_folder_stream(&c, &arg())
        .try_collect()
        .await
        .expect("retried through");
    let seen: BTreeSet<String> = entries.iter().map(path_of).collect();
    assert_eq!((entries.len(), seen), (700, expected));
}

#[tokio::test]
async fn a_listing_resumes_from_a_saved_cursor() {
    let emu = crate::common::start().await;
    let c = client(&emu, quick_retries());
    let expected = folder_of(&c, 550).await;
    // Read three pages, keep the last cursor, stop.
    let mut first: Vec<String> = Vec::new();
    let mut cursor = String::new();
    let arg = arg();
    let mut pages = Box::pin(files::list_folder_pages(&c, &arg));
    for _ in 0..3 {
        let page = pages.next().await.expect("a page").expect("page ok");
        first.extend(page.entries.iter().map(path_of));
        cursor = page.cursor.to_string();
    }
    drop(pages);
    // Later, maybe in another process: the rest from the cursor.
    let rest: Vec<String> = files::list_folder_pages_from(&c, cursor)
        .map_ok(|page| page.entries.iter().map(path_of).collect::<Vec<_>>())
        .try_concat()
        .await
        .expect("the rest");
    assert_eq!(first.len(), 300);
    let all: Vec<String> = first.into_iter().chain(rest).collect();
    assert_eq!(all.len(), 550, "nothing lost or repeated at the seam");
    assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), expected);
}
