//! Batch commits: `upload_session/finish_batch` (an async job, recorded so it survives a
//! restart), `finish_batch/check` and `finish_batch_v2` (synchronous).

use std::collections::HashSet;
use std::sync::Arc;

use axum::response::Response;
use dropbox_api::r#async::{PollArg, PollError};
use dropbox_api::auth::{RateLimitError, RateLimitReason};
use dropbox_api::files as f;

use super::support::NoBody;
use crate::api::convert::{commit_spec, file_metadata, finish_error};
use crate::api::wire::{Refusal, ok};
use crate::handoffs::Job;
use crate::sessions::{SessionFailure, Upload};
use crate::state::Shared;
use crate::store::{StoreError, ViewKind};

fn too_many_writes() -> f::UploadSessionFinishBatchResultEntry {
    f::UploadSessionFinishBatchResultEntry::Failure(
        f::UploadSessionFinishError::TooManyWriteOperations,
    )
}

/// Commits a batch; one result entry per input entry, in order.
async fn run_batch(
    shared: &Arc<Shared>,
    entries: &[f::UploadSessionFinishArg],
) -> f::UploadSessionFinishBatchResult {
    use f::UploadSessionFinishBatchResultEntry as Entry;
    let failure = |s: &SessionFailure| match finish_error(s) {
        Some(e) => Entry::Failure(e),
        None => too_many_writes(),
    };
    let mut out: Vec<Option<Entry>> = (0..entries.len()).map(|_| None).collect();
    let mut prepared = Vec::new();
    let mut seen = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        if !seen.insert(e.cursor.session_id.clone()) {
            out[i] = Some(failure(&SessionFailure::NotFound));
            continue;
        }
        let session = match shared.sessions.get(&e.cursor.session_id, false) {
            Ok(s) => s,
            Err(f) => {
                out[i] = Some(failure(&f));
                continue;
            }
        };
        match shared
            .sessions
            .prepare_finish(&session, e.cursor.offset, None::<Upload<NoBody>>, true)
            .await
        {
            Ok(p) => prepared.push((i, p, commit_spec(&e.commit))),
            Err(StoreError::Failure(f)) => out[i] = Some(failure(&f)),
            Err(StoreError::Io(err)) => {
                tracing::error!(error = %err, "finish_batch entry failed");
                out[i] = Some(too_many_writes());
            }
        }
    }
    if !shared.commit_latency.is_zero() {
        tokio::time::sleep(shared.commit_latency).await;
    }
    let items: Vec<_> = prepared
        .iter()
        .map(|(_, p, s)| (s.clone(), p.content.clone()))
        .collect();
    let now = shared.clock.now();
    let store = shared.store.clone();
    let results = tokio::task::spawn_blocking(move || store.commit_many(&items, now)).await;
    match results {
        Ok(Ok(rs)) => {
            for ((i, p, _), r) in prepared.into_iter().zip(rs) {
                out[i] = Some(match r {
                    Ok(c) => {
                        shared.sessions.complete(p);
                        match &c.entry.kind {
                            ViewKind::File(info) => Entry::Success(file_metadata(&c.entry, info)),
                            _ => too_many_writes(),
                        }
                    }
                    Err(StoreError::Failure(w)) => failure(&SessionFailure::Write(w)),
                    Err(StoreError::Io(err)) => {
                        tracing::error!(error = %err, "finish_batch commit failed");
                        too_many_writes()
                    }
                });
            }
        }
        Ok(Err(err)) => {
            tracing::error!(error = %err, "finish_batch commit failed");
            for (i, _, _) in prepared {
                out[i] = Some(too_many_writes());
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "finish_batch commit panicked");
            for (i, _, _) in prepared {
                out[i] = Some(too_many_writes());
            }
        }
    }
    f::UploadSessionFinishBatchResult::new(
        out.into_iter()
            .map(|e| e.unwrap_or_else(too_many_writes))
            .collect(),
    )
}

/// `finish_batch` (v1): an async job; a second job while one runs gets a 429
/// `too_many_write_operations`.
pub(super) fn finish_batch_v1(
    shared: Arc<Shared>,
    arg: f::UploadSessionFinishBatchArg,
) -> Result<Response, Refusal> {
    let Ok(guard) = shared.batch_lock.clone().try_lock_owned() else {
        return Err(Refusal::RateLimited(
            RateLimitError::new(RateLimitReason::TooManyWriteOperations).with_retry_after(1),
        ));
    };
    let job = crate::ids::job_id();
    shared.job_records.save(&job, &Job::Running, &arg.entries)?;
    Shared::lock(&shared.jobs).insert(job.clone(), Job::Running);
    tokio::spawn(run_job(shared, job.clone(), arg.entries, guard));
    Ok(ok(&f::UploadSessionFinishBatchLaunch::AsyncJobId(
        job.into(),
    )))
}

/// Runs a `finish_batch` job to its end and records the result.
async fn run_job(
    shared: Arc<Shared>,
    job_id: String,
    entries: Vec<f::UploadSessionFinishArg>,
    guard: tokio::sync::OwnedMutexGuard<()>,
) {
    let result = run_batch(&shared, &entries).await;
    let done = Job::Done(result);
    let records = &shared.job_records;
    if let Err(e) = records.save(&job_id, &done, &[])
        && !shared.fence.is_raised()
    {
        tracing::error!(error = %e, "cannot record a finish_batch result");
    }
    Shared::lock(&shared.jobs).insert(job_id, done);
    drop(guard);
}

/// Re-runs a `finish_batch` job that was running when the emulator stopped: entries whose
/// session was committed before the stop now report `not_found`.
pub(crate) fn resume_job(
    shared: Arc<Shared>,
    job_id: String,
    entries: Vec<f::UploadSessionFinishArg>,
) {
    tokio::spawn(async move {
        let guard = shared.batch_lock.clone().lock_owned().await;
        run_job(shared, job_id, entries, guard).await;
    });
}

/// `finish_batch_v2`: synchronous; while another batch of the account runs, every entry
/// fails with `too_many_write_operations` (the sessions stay intact for a retry).
pub(super) async fn finish_batch_v2(
    shared: Arc<Shared>,
    arg: f::UploadSessionFinishBatchArg,
) -> Result<Response, Refusal> {
    let Ok(guard) = shared.batch_lock.clone().try_lock_owned() else {
        let entries = arg.entries.iter().map(|_| too_many_writes()).collect();
        return Ok(ok(&f::UploadSessionFinishBatchResult::new(entries)));
    };
    let result = run_batch(&shared, &arg.entries).await;
    drop(guard);
    Ok(ok(&result))
}

pub(super) fn finish_batch_check(shared: &Shared, arg: &PollArg) -> Result<Response, Refusal> {
    match Shared::lock(&shared.jobs).get(arg.async_job_id.as_str()) {
        None => Err(Refusal::route(&PollError::InvalidAsyncJobId)),
        Some(Job::Running) => Ok(ok(&f::UploadSessionFinishBatchJobStatus::InProgress)),
        Some(Job::Done(r)) => Ok(ok(&f::UploadSessionFinishBatchJobStatus::Complete(
            r.clone(),
        ))),
    }
}
