//! `dbx login` (OAuth 2 with PKCE: print the authorize URL, read the code, exchange it, save
//! the refresh token) and `dbx logout` (revoke the token, delete the file).

use std::io::BufRead;

use dropbox_api::Protocol;
use dropbox_api_runtime::oauth::{self, AuthorizeUrlBuilder, PkceCode, TokenAccessType};
use dropbox_api_runtime::{ClientBuilder, Error, Secret, TokenEndpoint, TokenError};
use serde_json::json;

use crate::args::{Global, LoginArgs};
use crate::connect::configured;
use crate::credentials::{self, Saved};
use crate::failure::{CmdResult, Failure, Kind};
use crate::output::Output;

/// Where the site with `/oauth2/authorize` and `/oauth2/token` is: `--base-url`, or Dropbox.
fn base(global: &Global) -> Option<&str> {
    global.base_url.as_deref().map(|u| u.trim_end_matches('/'))
}

fn credentials_path(global: &Global) -> CmdResult<std::path::PathBuf> {
    credentials::path(global).ok_or_else(|| {
        Failure::new(
            Kind::Usage,
            "no place for the credentials file: HOME is not set",
        )
        .hint("give one with --credentials FILE or DBX_CREDENTIALS")
    })
}

/// A failure of the token endpoint.
fn token_failure(e: TokenError) -> Failure {
    let kind = match &e {
        TokenError::Refused { .. } => Kind::Auth,
        TokenError::Transport(_) => Kind::Transient,
        _ => Kind::Failure,
    };
    let f = Failure::new(kind, format!("signing in failed: {e}"));
    match kind {
        Kind::Auth => f.hint(
            "a code works once and for 10 minutes, with the app key it was issued for: run `dbx login` again",
        ),
        _ => f,
    }
}

/// `dbx login`.
pub async fn login(a: &LoginArgs, global: &Global, out: &Output) -> CmdResult {
    let Some(app_key) = a.app_key.clone().filter(|k| !k.trim().is_empty()) else {
        return Err(Failure::new(Kind::Usage, "an app key is needed to sign in")
            .hint("give it with --app-key or DBX_APP_KEY (the App Console shows it)"));
    };
    let path = credentials_path(global)?;
    let pkce = PkceCode::new();
    let mut url = AuthorizeUrlBuilder::new(app_key.as_str())
        .token_access_type(TokenAccessType::Offline)
        .scopes(a.scope.iter().cloned())
        .pkce(&pkce);
    if let Some(b) = base(global) {
        url = url.base_url(b);
    }
    let state = a.redirect_uri.as_ref().map(|_| oauth::random_state());
    if let (Some(uri), Some(s)) = (&a.redirect_uri, &state) {
        url = url.redirect_uri(uri.as_str()).state(s.clone());
    }
    // The prompt is not the result: stderr, also with --quiet (the user must see it).
    eprintln!(
        "Open this address in a browser, sign in and allow access:\n\n  {}\n",
        url.build()
    );
    if a.redirect_uri.is_some() {
        eprintln!("Then paste the address the browser was sent to (or just its code):");
    } else {
        eprintln!("Then paste the code Dropbox shows:");
    }
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| Failure::new(Kind::Failure, format!("reading the code: {e}")))?
    .map_err(|e| Failure::new(Kind::Failure, format!("reading the code: {e}")))?;
    let input = line.trim();
    if input.is_empty() {
        return Err(Failure::new(Kind::Usage, "no code was given"));
    }
    let code: Secret = if input.contains("code=") || input.contains("error=") {
        oauth::code_from_redirect(input, state.as_ref())
            .map_err(|e| Failure::new(Kind::Auth, format!("signing in failed: {e}")))?
    } else {
        Secret::new(input)
    };
    let http = dropbox_api_runtime::http_client_builder()
        .connect_timeout(global.timeout.min(std::time::Duration::from_secs(10)))
        .build()
        .map_err(|e| Failure::new(Kind::Failure, format!("creating the HTTP client: {e}")))?;
    let token_url = match base(global) {
        Some(b) => format!("{b}/oauth2/token"),
        None => dropbox_api_runtime::config::DEFAULT_TOKEN_URL.to_owned(),
    };
    let issued = TokenEndpoint::new(token_url, http)
        .with_timeout(global.timeout)
        .exchange_code(&app_key, code.expose(), &pkce, a.redirect_uri.as_deref())
        .await
        .map_err(token_failure)?;
    let Some(refresh_token) = issued.refresh_token.clone() else {
        return Err(Failure::new(
            Kind::Failure,
            "signing in failed: the token endpoint issued no refresh token",
        ));
    };
    credentials::save(
        &path,
        &Saved {
            app_key,
            refresh_token,
            account_id: issued.account_id.clone(),
        },
    )?;
    let who = issued
        .account_id
        .as_deref()
        .map(|a| format!(" as {a}"))
        .unwrap_or_default();
    out.line(format!(
        "Signed in{who}; credentials saved in {}",
        path.display()
    ));
    out.json(json!({
        "signed_in": true,
        "account_id": issued.account_id,
        "scopes": issued.scopes,
        "credentials": path.display().to_string(),
    }));
    Ok(())
}

/// Whether a failed revoke shows that the token was already unusable.
fn already_invalid<E>(e: &Error<E, Protocol>) -> bool {
    match e {
        Error::Token(TokenError::Refused { error, .. }) => error.starts_with("invalid_grant"),
        Error::Auth(a) => a.error == dropbox_api::auth::AuthError::InvalidAccessToken,
        _ => false,
    }
}

/// `dbx logout`: revokes the saved token, then deletes the file, whatever the revoke did.
/// Exit 0 when the token is revoked or was already invalid; when the revoke could not be
/// confirmed (network, server), the file is deleted all the same and the exit code is that
/// failure's (5 for a network failure).
pub async fn logout(global: &Global, out: &Output) -> CmdResult {
    let path = credentials_path(global)?;
    let Some(saved) = credentials::load(&path)? else {
        out.note(format!(
            "dbx: not signed in (no credentials in {})",
            path.display()
        ));
        out.json(json!({"signed_out": true, "revoked": false, "credentials": path.display().to_string()}));
        return Ok(());
    };
    let mut builder = configured(ClientBuilder::new(), global).refresh_token(
        saved.refresh_token.clone(),
        saved.app_key.clone(),
        None,
    );
    if let Some(b) = base(global) {
        builder = builder.base_url(b);
    }
    let revoked = match builder.build_user() {
        Ok(client) => oauth::revoke::<Protocol>(&client).await,
        Err(e) => {
            return Err(Failure::new(Kind::Usage, e.to_string()));
        }
    };
    credentials::remove(&path)?;
    match revoked {
        Ok(()) => {
            out.line(format!(
                "Signed out: the token is revoked and {} deleted",
                path.display()
            ));
            out.json(json!({"signed_out": true, "revoked": true, "credentials": path.display().to_string()}));
            Ok(())
        }
        Err(e) if already_invalid(&e) => {
            out.line(format!(
                "Signed out: the saved token was no longer valid; {} deleted",
                path.display()
            ));
            out.json(json!({"signed_out": true, "revoked": false, "credentials": path.display().to_string()}));
            Ok(())
        }
        Err(e) => {
            // The token endpoint out of reach is a network failure here, not a refusal.
            let unreachable = matches!(&e, Error::Token(TokenError::Transport(_)));
            let mut f = Failure::from(e);
            if unreachable {
                f.kind = Kind::Transient;
            }
            Err(Failure {
                message: format!(
                    "{} deleted, but Dropbox did not confirm revoking the token: {}",
                    path.display(),
                    f.message
                ),
                hint: Some(
                    "the token may still work: remove the app's access at https://www.dropbox.com/account/connected_apps"
                        .into(),
                ),
                ..f
            })
        }
    }
}
