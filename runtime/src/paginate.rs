//! Listings that span pages: the streams behind the generated paginators
//! (`files::list_folder_pages`, `files::list_folder_stream`, ...).
//!
//! A paginator calls the first route, then its `.../continue` route with each page's
//! cursor for as long as the page says more follow. Each call is an ordinary route call, so
//! it has the client's retry policy and timeouts. An error ends the stream after it is
//! yielded, as [`PageError::First`] or [`PageError::Next`] with the route's typed error.
//! Pages carry their cursor: keep the last one to resume later with the `*_pages_from`
//! function, which starts at the continue route.

use std::fmt;
use std::future::Future;

use futures_util::stream::{self, Stream, StreamExt};

/// Why a page could not be fetched: the first route's error or the continue route's.
#[derive(Debug)]
pub enum PageError<F, N> {
    /// The first call failed.
    First(F),
    /// A continue call failed.
    Next(N),
}

impl<F: fmt::Display, N: fmt::Display> fmt::Display for PageError<F, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageError::First(e) => write!(f, "the first page failed: {e}"),
            PageError::Next(e) => write!(f, "a following page failed: {e}"),
        }
    }
}

impl<F, N> std::error::Error for PageError<F, N>
where
    F: std::error::Error + 'static,
    N: std::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PageError::First(e) => Some(e),
            PageError::Next(e) => Some(e),
        }
    }
}

struct State<First, Next, More> {
    first: Option<First>,
    cursor: Option<crate::Str>,
    next: Next,
    more: More,
}

/// The pages of a listing: `first` (when given), then `next(cursor)` while `more(page)`
/// gives a cursor. Ends after the last page or after the first error.
pub fn pages<'a, P, F, N, First, Next, NextFut, More>(
    first: Option<First>,
    cursor: Option<crate::Str>,
    next: Next,
    more: More,
) -> impl Stream<Item = Result<P, PageError<F, N>>> + 'a
where
    P: 'a,
    F: 'a,
    N: 'a,
    First: Future<Output = Result<P, F>> + 'a,
    Next: FnMut(crate::Str) -> NextFut + 'a,
    NextFut: Future<Output = Result<P, N>> + 'a,
    More: Fn(&P) -> Option<crate::Str> + 'a,
{
    let state = State {
        first,
        cursor,
        next,
        more,
    };
    stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        let page = match state.first.take() {
            Some(first) => first.await.map_err(PageError::First),
            None => {
                let cursor = state.cursor.take()?;
                (state.next)(cursor).await.map_err(PageError::Next)
            }
        };
        match page {
            Ok(page) => {
                state.cursor = (state.more)(&page);
                let rest = state.cursor.is_some().then_some(state);
                Some((Ok(page), rest))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// The items of every page, in order: `items(page)` for each page of `pages`. An error is
/// yielded where the page would have been, and ends the stream.
pub fn items<'a, P, T, E, Pages, Items>(
    pages: Pages,
    items: Items,
) -> impl Stream<Item = Result<T, E>> + 'a
where
    Pages: Stream<Item = Result<P, E>> + 'a,
    Items: Fn(P) -> Vec<T> + 'a,
    T: 'a,
    E: 'a,
{
    pages.flat_map(move |page| {
        let batch: Vec<Result<T, E>> = match page {
            Ok(page) => items(page).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(batch)
    })
}
