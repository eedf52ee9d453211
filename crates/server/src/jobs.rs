//! Background jobs: the KMS maintenance job (rotation, deletion, key-usage flush) runs at
//! start-up and then every minute until shutdown; the principal directory is reloaded within
//! a second of another process (`trent admin`) changing it, and the TLS certificate within a
//! second of its files changing. Every second, too, audit intents whose records the log now
//! holds durably are forgotten (see [`crate::recorder`]).

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;

/// How often maintenance runs.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);

/// How often the directory version is compared (one small read).
pub const DIRECTORY_SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Loads the TLS files again if they changed (certificate renewal); off the async threads,
/// since it reads files.
async fn reload_tls(app: &Arc<App>) {
    if app.tls.is_none() {
        return;
    }
    let app = app.clone();
    let outcome =
        tokio::task::spawn_blocking(move || app.tls.as_ref().map(|t| t.reload_if_changed())).await;
    match outcome {
        Ok(Some(Ok(true))) => tracing::info!("TLS certificate and key reloaded"),
        Ok(Some(Err(e))) => {
            tracing::warn!(error = %e, "TLS files changed but cannot be used; still serving the previous certificate")
        }
        _ => {}
    }
}

/// Runs the KMS maintenance job once (rotation, deletion, key-usage flush), each change with
/// its audit record.
pub async fn maintenance(
    app: &App,
) -> Result<trent_core::ops::lifecycle::MaintenanceReport, trent_core::CoreError> {
    app.kms
        .run_maintenance(&crate::recorder::ServiceEvents(app))
        .await
}

/// Runs maintenance now and then every [`MAINTENANCE_INTERVAL`], and every
/// [`DIRECTORY_SYNC_INTERVAL`] compares the directory version and the TLS files, until
/// `shutdown` resolves.
pub async fn run(app: Arc<App>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(MAINTENANCE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut directory = tokio::time::interval(DIRECTORY_SYNC_INTERVAL);
    directory.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = directory.tick() => {
                match app.credentials.reload_if_changed().await {
                    Ok(true) => tracing::debug!("principal directory reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "cannot reload the principal directory"),
                }
                reload_tls(&app).await;
                crate::recorder::forget_durable(&app).await;
                crate::recorder::drain_stranded(&app).await;
                continue;
            }
            _ = ticker.tick() => {}
        }
        match maintenance(&app).await {
            Ok(report) if report.rotated + report.deleted > 0 => {
                tracing::info!(
                    rotated = report.rotated,
                    deleted = report.deleted,
                    "maintenance ran"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "maintenance failed; it will run again"),
        }
    }
    if let Err(e) = app.kms.flush_usage().await {
        tracing::warn!(error = %e, "could not flush key usage at shutdown");
    }
    crate::recorder::forget_durable(&app).await;
}
