//! A user's calendar over the API (docs/PROFILES.md): replace the appointments (JSON or an `.ics`
//! file), choose what is shared, and read what is shared. Reads never include the subject of a
//! private appointment: what this route shows is [`share`] at the user's level, the same value
//! anything else leaving the node is made of.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{post, put};
use serde::{Deserialize, Serialize};

use super::ApiState;
use super::error::ApiError;
use super::extract::{JsonBody, PathOf};
use super::guard::Caller;
use crate::profile_runtime::ImportSummary;
use lampfield_domain::calendar::{
    Appointment, ImportLimits, Origin, SharedAppointment, Sharing, ShowAs, category_profile, share,
};
use lampfield_domain::presence::{Note, Timestamp};

/// Largest `.ics` upload (the importer's own cap).
const MAX_ICS_BYTES: usize = 1 << 20;

/// The routes under `/v1`.
pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/users/{jid}/calendar",
            axum::routing::get(get).put(put_appointments),
        )
        .route(
            "/users/{jid}/calendar/ics",
            post(import).layer(DefaultBodyLimit::max(
                MAX_ICS_BYTES.min(ImportLimits::default().max_bytes),
            )),
        )
        .route("/users/{jid}/calendar/sharing", put(put_sharing))
}

/// What is shared of a calendar.
#[derive(Debug, Serialize)]
pub(super) struct CalendarOut {
    sharing: Sharing,
    appointments: Vec<SharedAppointment>,
}

/// One appointment as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AppointmentBody {
    start: Timestamp,
    end: Timestamp,
    #[serde(default = "busy")]
    show_as: ShowAs,
    #[serde(default)]
    subject: Option<Note>,
    /// `"@Do not disturb"` activates that profile (full-profile mode).
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    private: bool,
    /// Someone else's invitation, by the organizer's address.
    #[serde(default)]
    organizer: Option<Note>,
}

fn busy() -> ShowAs {
    ShowAs::Busy
}

/// `{"appointments": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AppointmentsBody {
    appointments: Vec<AppointmentBody>,
}

/// `{"sharing": "nothing" | "public_only" | "public_and_private_times" | "everything"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SharingBody {
    sharing: Sharing,
}

fn shared(state: &ApiState, caller: &Caller, jid: &str) -> Result<Json<CalendarOut>, ApiError> {
    let (s, user) = state.profile_runtime(caller, jid)?;
    let (appointments, sharing) = s.calendar(&user)?;
    Ok(Json(CalendarOut {
        sharing,
        appointments: share(&appointments, sharing),
    }))
}

/// `GET /v1/users/{jid}/calendar`: the appointments as the user shares them.
pub(super) async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<CalendarOut>, ApiError> {
    shared(&state, &caller, &jid)
}

/// `PUT /v1/users/{jid}/calendar`: replace every appointment.
pub(super) async fn put_appointments(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<AppointmentsBody>,
) -> Result<Json<CalendarOut>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    let mut appointments = Vec::with_capacity(body.appointments.len());
    for (i, a) in body.appointments.into_iter().enumerate() {
        let mut made = Appointment::new(a.start, a.end, a.show_as)
            .map_err(|e| ApiError::invalid(&format!("appointments[{i}]"), e))?
            .with_private(a.private);
        if let Some(subject) = a.subject {
            made = made.with_subject(subject);
        }
        if let Some(p) = a.category.as_deref().and_then(category_profile) {
            made = made.with_profile(p);
        }
        if let Some(organizer) = a.organizer {
            made = made.with_origin(Origin::Invitation {
                organizer: Some(organizer),
            });
        }
        appointments.push(made);
    }
    s.set_appointments(&user, appointments).await?;
    shared(&state, &caller, &jid)
}

/// `POST /v1/users/{jid}/calendar/ics`: replace the appointments with an iCalendar file's
/// (the body, `text/calendar`), recurring events expanded over the import window.
pub(super) async fn import(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportSummary>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            "too_large",
            format!("calendar file: {}", e.body_text()),
        )
    })?;
    Ok(Json(s.import_ics(&user, &bytes).await?))
}

/// `PUT /v1/users/{jid}/calendar/sharing`.
pub(super) async fn put_sharing(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<SharingBody>,
) -> Result<Json<CalendarOut>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    s.set_sharing(&user, body.sharing).await?;
    shared(&state, &caller, &jid)
}
