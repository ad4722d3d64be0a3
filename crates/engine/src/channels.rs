//! Booking channels: connections and their keys, reservations pushed (or polled) from them,
//! cart holds, and staff changes of channel bookings sent back as signed webhooks through
//! the outbox.

use crate::bookings::change_booking;
use crate::consent::ConsentDecision;
use crate::error::EngineError;
use crate::service::Engine;
use bellhop_domain::channel::{
    self, ConnectionKind, PushDecision, Reservation, ReservationStatus, StoredReservation,
};
use bellhop_domain::consent::{Channel as ConsentChannel, Purpose, Source};
use bellhop_domain::{Booking, BookingFields, BookingStatus, Contact, MessageKind, MessageStatus};
use bellhop_store::{AdHocMessage, Connection, NewConnection, PlanSummary, TakenReservation, Tx};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What staff set when creating or changing a connection.
#[derive(Clone, Debug)]
pub struct ConnectionSettings {
    /// The property its reservations are for.
    pub property_id: Uuid,
    /// Shown to staff and stored as the bookings' source ("Slevomat").
    pub name: String,
    /// JSON or AlpineBits.
    pub kind: ConnectionKind,
    /// Where staff changes go back (checked against SSRF by the caller).
    pub webhook_url: Option<String>,
    /// How long an unpaid cart hold lasts (default 60).
    pub hold_minutes: i64,
    /// Where to poll the channel's AlpineBits server for GuestRequests, if bellhop pulls.
    pub poll: Option<PollSettings>,
}

/// Pulling a channel's GuestRequests as an AlpineBits client.
#[derive(Clone, Debug)]
pub struct PollSettings {
    /// The channel's AlpineBits endpoint (checked against SSRF by the caller).
    pub url: String,
    /// The user bellhop logs in as.
    pub user: String,
    /// Its password (kept sealed under the installation key); `None` keeps the stored one.
    pub password: Option<String>,
    /// The hotel code the channel knows the property by.
    pub hotel_code: String,
    /// Seconds between polls (30 to 86,400).
    pub every_secs: i64,
}

/// What a round of polling did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollStats {
    /// Connections polled.
    pub polled: usize,
    /// Reservations taken (created, updated or already known).
    pub taken: usize,
    /// Reservations refused (and reported as such to the channel).
    pub refused: usize,
    /// Polls that failed.
    pub failed: usize,
}

const POLL_SECRET: &str = "alpinebits-poll";

/// The webhook signing secret of a connection's current generation.
pub(crate) fn webhook_secret(
    signer: &bellhop_transport::callbacks::Callbacks,
    connection: &Connection,
) -> String {
    signer.sign(
        "channel-webhook",
        &format!("{}:{}", connection.id, connection.secret_generation),
    )
}

/// A connection with the secrets shown once: its key (JSON) or user and password
/// (AlpineBits), and the webhook signing secret.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConnectionSecrets {
    /// The connection.
    pub connection: Connection,
    /// `Authorization: Bearer <key>` for the JSON channel API.
    pub api_key: Option<String>,
    /// HTTP Basic user for AlpineBits.
    pub alpinebits_user: Option<String>,
    /// HTTP Basic password for AlpineBits.
    pub alpinebits_password: Option<String>,
    /// The secret webhooks are signed with.
    pub webhook_secret: String,
}

/// What a push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// A new booking.
    Created,
    /// The booking now says what the push says.
    Updated,
    /// The same reservation again: nothing changed, nothing is sent.
    Unchanged,
    /// A hold re-sent after it lapsed: it stays lapsed (staff told once).
    HoldLapsed,
    /// About an order the channel replaced by another, or a cancellation of a reservation
    /// never received: nothing to do.
    Ignored,
}

/// The answer to a push.
#[derive(Clone, Debug)]
pub struct Pushed {
    /// What happened.
    pub outcome: PushOutcome,
    /// The booking, where there is one.
    pub booking: Option<Booking>,
    /// Why nothing happened (ignored).
    pub detail: Option<String>,
    /// Messages planned, changed or cancelled.
    pub plan: PlanSummary,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new key: (what is stored to find it, the secret's hash, what the channel sends).
fn new_key(kind: ConnectionKind) -> (String, String, String) {
    let secret = random_hex(16);
    match kind {
        ConnectionKind::Json => {
            let prefix = random_hex(6);
            let token = format!("bhc_{prefix}_{secret}");
            (prefix, hash(&secret), token)
        }
        ConnectionKind::AlpineBits => {
            let user = format!("bellhop-{}", random_hex(6));
            (user, hash(&secret), secret)
        }
    }
}

/// Compares hex hashes in constant time.
fn same_hash(a: &str, b: &str) -> bool {
    bellhop_transport::callbacks::constant_time_eq(a.as_bytes(), b.as_bytes())
}

fn check_settings(s: &ConnectionSettings) -> Result<(), EngineError> {
    let name = s.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(EngineError::invalid(
            "name",
            "must be 1 to 100 characters without control characters",
        ));
    }
    if !(1..=7 * 24 * 60).contains(&s.hold_minutes) {
        return Err(EngineError::invalid(
            "hold_minutes",
            "must be between 1 minute and 7 days",
        ));
    }
    Ok(())
}

impl Engine {
    /// The webhook signing secret of a connection's current generation. It is derived from
    /// the installation key, so it is never stored; rotating the key moves to the next one.
    pub fn webhook_secret(&self, connection: &Connection) -> String {
        webhook_secret(self.signer(), connection)
    }

    fn with_secrets(&self, connection: Connection, shown: String) -> ConnectionSecrets {
        let webhook_secret = self.webhook_secret(&connection);
        let (api_key, alpinebits_user, alpinebits_password) = match connection.kind {
            ConnectionKind::Json => (Some(shown), None, None),
            ConnectionKind::AlpineBits => (None, Some(connection.key_prefix.clone()), Some(shown)),
        };
        ConnectionSecrets {
            connection,
            api_key,
            alpinebits_user,
            alpinebits_password,
            webhook_secret,
        }
    }

    /// Creates a connection and its key, shown once.
    pub async fn create_connection(
        &self,
        account: Uuid,
        settings: ConnectionSettings,
    ) -> Result<ConnectionSecrets, EngineError> {
        check_settings(&settings)?;
        let now = self.now();
        let poll = settings.poll.is_some().then(|| settings.clone());
        let (key_prefix, secret_hash, shown) = new_key(settings.kind);
        let connection = Connection {
            id: Uuid::now_v7(),
            account_id: account,
            property_id: settings.property_id,
            name: settings.name.trim().to_owned(),
            kind: settings.kind,
            key_prefix,
            webhook_url: settings.webhook_url,
            secret_generation: 1,
            hold_minutes: settings.hold_minutes,
            poll_url: None,
            poll_user: None,
            poll_hotel_code: None,
            poll_every_secs: None,
            last_activity_at: None,
            last_error: None,
            last_error_at: None,
            revoked_at: None,
            created_at: now,
        };
        let mut tx = self.store().begin().await?;
        tx.property(account, settings.property_id)
            .await
            .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
        tx.insert_connection(
            &NewConnection {
                connection: connection.clone(),
                secret_hash,
                poll_secret: None,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        let connection = match poll {
            Some(settings) => {
                self.update_connection(account, connection.id, settings)
                    .await?
            }
            None => connection,
        };
        Ok(self.with_secrets(connection, shown))
    }

    /// Changes a connection's name, webhook URL or hold time.
    pub async fn update_connection(
        &self,
        account: Uuid,
        id: Uuid,
        settings: ConnectionSettings,
    ) -> Result<Connection, EngineError> {
        check_settings(&settings)?;
        let mut connection = self.store().connection(account, id).await?;
        if settings.property_id != connection.property_id {
            return Err(EngineError::invalid(
                "property_id",
                "a connection cannot move to another property",
            ));
        }
        if settings.kind != connection.kind {
            return Err(EngineError::invalid(
                "kind",
                "a connection cannot change its kind",
            ));
        }
        connection.name = settings.name.trim().to_owned();
        connection.webhook_url = settings.webhook_url;
        connection.hold_minutes = settings.hold_minutes;
        let sealed = match &settings.poll {
            Some(poll) => {
                if !(30..=86_400).contains(&poll.every_secs) {
                    return Err(EngineError::invalid(
                        "poll.every_secs",
                        "must be between 30 seconds and a day",
                    ));
                }
                if poll.hotel_code.trim().is_empty() || poll.user.trim().is_empty() {
                    return Err(EngineError::invalid(
                        "poll",
                        "a hotel code and a user are needed",
                    ));
                }
                connection.poll_url = Some(poll.url.clone());
                connection.poll_user = Some(poll.user.trim().to_owned());
                connection.poll_hotel_code = Some(poll.hotel_code.trim().to_owned());
                connection.poll_every_secs = Some(poll.every_secs);
                poll.password
                    .as_deref()
                    .map(|p| Some(self.signer().seal(POLL_SECRET, p)))
            }
            None => {
                connection.poll_url = None;
                connection.poll_user = None;
                connection.poll_hotel_code = None;
                connection.poll_every_secs = None;
                Some(None)
            }
        };
        let mut tx = self.store().begin().await?;
        tx.update_connection(
            &connection,
            sealed.as_ref().map(|s| s.as_deref()),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(connection)
    }

    /// Gives a connection a new key and webhook secret (the old ones stop working at once).
    pub async fn rotate_connection(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<ConnectionSecrets, EngineError> {
        let connection = self.store().connection(account, id).await?;
        let (key_prefix, secret_hash, shown) = new_key(connection.kind);
        let mut tx = self.store().begin().await?;
        tx.rotate_connection_key(account, id, &key_prefix, &secret_hash, self.now())
            .await?;
        tx.commit().await?;
        let connection = self.store().connection(account, id).await?;
        Ok(self.with_secrets(connection, shown))
    }

    /// Revokes a connection's key.
    pub async fn revoke_connection(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<Connection, EngineError> {
        let mut tx = self.store().begin().await?;
        tx.revoke_connection(account, id, self.now()).await?;
        tx.commit().await?;
        Ok(self.store().connection(account, id).await?)
    }

    /// The live connection a JSON channel key (`bhc_<prefix>_<secret>`) belongs to.
    pub async fn connection_by_api_key(&self, token: &str) -> Result<Connection, EngineError> {
        let rest = token.strip_prefix("bhc_").ok_or(EngineError::NotFound)?;
        let (prefix, secret) = rest.split_once('_').ok_or(EngineError::NotFound)?;
        self.live_connection(prefix, secret, ConnectionKind::Json)
            .await
    }

    /// The live AlpineBits connection of an HTTP Basic user and password.
    pub async fn connection_by_password(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Connection, EngineError> {
        self.live_connection(user, password, ConnectionKind::AlpineBits)
            .await
    }

    async fn live_connection(
        &self,
        prefix: &str,
        secret: &str,
        kind: ConnectionKind,
    ) -> Result<Connection, EngineError> {
        if prefix.is_empty() || prefix.len() > 64 || secret.len() > 256 {
            return Err(EngineError::NotFound);
        }
        let (connection, secret_hash) = self
            .store()
            .connection_by_key(prefix)
            .await?
            .ok_or(EngineError::NotFound)?;
        if connection.kind != kind
            || connection.revoked_at.is_some()
            || !same_hash(&hash(secret), &secret_hash)
        {
            return Err(EngineError::NotFound);
        }
        Ok(connection)
    }

    /// Notes a connection's request: taken, or refused with `error`.
    pub async fn note_channel_activity(&self, connection: Uuid, error: Option<&str>) {
        if let Err(e) = self
            .store()
            .touch_connection(connection, error, self.now())
            .await
        {
            tracing::warn!(error = %e, %connection, "cannot record the channel's activity");
        }
    }

    /// Takes one reservation from a channel: creates its booking, replaces it with a newer
    /// version, or does nothing for the same content again; refuses an older version
    /// (`Conflict`). Concurrent pushes of one reservation take turns.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(connection_id = %connection.id, external_id = %r.external_id))]
    pub async fn push_reservation(
        &self,
        connection: &Connection,
        r: &Reservation,
    ) -> Result<Pushed, EngineError> {
        r.check(connection.kind == ConnectionKind::Json)
            .map_err(|e| EngineError::invalid(e.field, e.message))?;
        // The bookings this push may change are known before the write lock, so a send in
        // flight is waited for without holding it (see `Store::begin_booking_change`).
        for _ in 0..3 {
            let known = self.known_bookings(connection, r).await?;
            let mut tx = self.store().begin_booking_change(&known).await?;
            tx.lock_channel_reservation(connection.id, &r.external_id)
                .await?;
            let stored = tx
                .channel_reservation(connection.id, &r.external_id)
                .await?;
            let replaced = match &r.replaces {
                Some(old) if stored.is_none() => tx
                    .channel_reservation(connection.id, old)
                    .await?
                    .filter(|o| o.replaced_by.is_none()),
                _ => None,
            };
            let touches: Vec<Uuid> = stored
                .iter()
                .chain(replaced.iter())
                .map(|s| s.booking_id)
                .collect();
            if !touches.iter().all(|id| known.contains(id)) {
                continue; // it appeared meanwhile: take it with its booking held, from the top
            }
            let pushed = self
                .take_reservation(&mut tx, connection, r, stored, replaced)
                .await?;
            tx.commit().await?;
            return Ok(pushed);
        }
        Err(EngineError::Busy(
            "the reservation is being changed by another request; try again".into(),
        ))
    }

    async fn known_bookings(
        &self,
        connection: &Connection,
        r: &Reservation,
    ) -> Result<Vec<Uuid>, EngineError> {
        let mut tx = self.store().begin_read().await?;
        let mut ids = Vec::new();
        for external in std::iter::once(&r.external_id).chain(r.replaces.iter()) {
            if let Some(s) = tx.channel_reservation(connection.id, external).await? {
                ids.push(s.booking_id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    async fn take_reservation(
        &self,
        tx: &mut Tx,
        connection: &Connection,
        r: &Reservation,
        stored: Option<StoredReservation>,
        replaced: Option<StoredReservation>,
    ) -> Result<Pushed, EngineError> {
        let now = self.now();
        let account = connection.account_id;
        let actor = format!("channel:{}", connection.id);
        let ignored = |detail: String| Pushed {
            outcome: PushOutcome::Ignored,
            booking: None,
            detail: Some(detail),
            plan: PlanSummary::default(),
        };
        let decision = match (&stored, &replaced) {
            (None, Some(_)) => PushDecision::Replace,
            _ => channel::decide(stored.as_ref(), r),
        };
        let previous = stored.as_ref().or(replaced.as_ref());
        let held_since = match (r.status, previous.and_then(|s| s.held_since)) {
            (_, Some(since)) => Some(since),
            (ReservationStatus::PendingPayment, None) => Some(now),
            _ => None,
        };
        let hold = SignedDuration::from_mins(connection.hold_minutes);
        let hold_until = held_since.and_then(|t| t.checked_add(hold).ok());
        let content_hash = r.content_hash();
        let taken = |booking_id: Uuid| TakenReservation {
            connection_id: connection.id,
            external_id: &r.external_id,
            booking_id,
            version: r.version(),
            content_hash: &content_hash,
            status: r.status,
            held_since,
        };
        match decision {
            PushDecision::Unchanged => {
                let stored = stored
                    .as_ref()
                    .ok_or_else(|| EngineError::Internal("unchanged without a booking".into()))?;
                let booking = tx.booking(account, stored.booking_id).await?;
                // A channel that keeps re-sending the same unpaid cart after it lapsed: it
                // stays lapsed, and staff hear of it once.
                if booking.fields.status == BookingStatus::Expired
                    && r.status == ReservationStatus::PendingPayment
                {
                    return lapsed_hold(tx, connection, r, stored, booking, held_since, now).await;
                }
                Ok(Pushed {
                    outcome: PushOutcome::Unchanged,
                    booking: Some(booking),
                    detail: None,
                    plan: PlanSummary::default(),
                })
            }
            PushDecision::Stale(why) => Err(EngineError::Conflict(why)),
            PushDecision::Closed(why) => Ok(ignored(why)),
            PushDecision::Create if r.status == ReservationStatus::Cancelled => Ok(ignored(
                format!("no reservation {} to cancel", r.external_id),
            )),
            PushDecision::Create => {
                let contact = self.channel_contact(tx, connection, r).await?;
                let fields = channel::booking_fields(
                    r,
                    &connection.name,
                    connection.property_id,
                    contact.id,
                    None,
                    hold_until,
                )
                .map_err(|e| EngineError::invalid(e.field, e.message))?;
                let (booking, plan) = self
                    .create_booking_in(tx, account, fields, &actor)
                    .await
                    .map_err(|e| match e {
                        EngineError::Store(bellhop_store::StoreError::Duplicate { .. }) => {
                            EngineError::Conflict(format!(
                                "a booking with external_id {} from {} exists already",
                                r.external_id, connection.name
                            ))
                        }
                        other => other,
                    })?;
                tx.save_channel_reservation(&taken(booking.id), now).await?;
                if r.newsletter == Some(true) && contact.email.is_some() {
                    let mut decision = ConsentDecision::new(
                        Purpose::Marketing,
                        ConsentChannel::Email,
                        true,
                        Source::Channel,
                    );
                    decision.actor = Some(actor.clone());
                    decision.property_id = Some(connection.property_id);
                    decision.evidence = serde_json::json!({
                        "channel": connection.name,
                        "external_id": r.external_id,
                        "flag": "newsletter",
                    });
                    self.record_consent_in(tx, account, contact.id, &decision)
                        .await?;
                }
                Ok(Pushed {
                    outcome: PushOutcome::Created,
                    booking: Some(booking),
                    detail: None,
                    plan,
                })
            }
            PushDecision::Replace => {
                let previous = previous
                    .ok_or_else(|| EngineError::Internal("replace without a booking".into()))?;
                let old = tx.booking_for_change(account, previous.booking_id).await?;
                let lapsed = old.fields.status == BookingStatus::Expired
                    && r.status == ReservationStatus::PendingPayment
                    && hold_until.is_some_and(|until| until <= now);
                if lapsed {
                    tx.save_channel_reservation(&taken(old.id), now).await?;
                    return lapsed_hold(tx, connection, r, previous, old, held_since, now).await;
                }
                let fields = channel::booking_fields(
                    r,
                    &connection.name,
                    connection.property_id,
                    old.fields.contact_id,
                    Some(&old.fields),
                    hold_until,
                )
                .map_err(|e| EngineError::invalid(e.field, e.message))?;
                if let Some(old_reservation) = replaced.as_ref().and(r.replaces.as_deref()) {
                    tx.mark_reservation_replaced(
                        connection.id,
                        old_reservation,
                        &r.external_id,
                        now,
                    )
                    .await?;
                }
                let changed = change_booking(tx, &old, fields, &actor, now).await?;
                tx.save_channel_reservation(&taken(old.id), now).await?;
                let (booking, plan) = changed.unwrap_or((old, PlanSummary::default()));
                Ok(Pushed {
                    outcome: PushOutcome::Updated,
                    booking: Some(booking),
                    detail: None,
                    plan,
                })
            }
        }
    }

    /// The guest of a channel reservation: the account's contact with that email address or
    /// number, or a new one.
    async fn channel_contact(
        &self,
        tx: &mut Tx,
        connection: &Connection,
        r: &Reservation,
    ) -> Result<Contact, EngineError> {
        let property = tx
            .property(connection.account_id, connection.property_id)
            .await?;
        let g = &r.guest;
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.chars().take(200).collect::<String>())
        };
        let email = clean(&g.email).and_then(|e| e.to_lowercase().parse().ok());
        let number = clean(&g.phone)
            .and_then(|p| bellhop_domain::phone::normalize(&p, Some(&property.country)).ok());
        let contact = Contact {
            id: Uuid::now_v7(),
            account_id: connection.account_id,
            first_name: clean(&g.first_name),
            last_name: clean(&g.last_name),
            email,
            phone: clean(&g.phone),
            phone_e164: number.as_ref().map(|n| n.e164.clone()),
            phone_type: number.as_ref().map(|n| n.kind),
            language: r.language.as_deref().and_then(|l| l.parse().ok()),
            address: None,
            postal_code: None,
            city: None,
            country: None,
            nationality: None,
            birth_date: None,
        };
        self.find_or_create_contact_in(tx, &contact).await
    }

    /// Polls the channels whose poll is due, as an AlpineBits client: `OTA_Read` for the
    /// GuestRequests not yet acknowledged, each taken like a push, then `OTA_NotifReport`
    /// acknowledging those taken and refusing the rest. A connection is leased to `node`
    /// while it is polled, so nodes sharing a database never poll one channel twice at once.
    pub async fn poll_channels(
        &self,
        client: &bellhop_transport::alpinebits::AlpineBitsClient,
        node: &str,
    ) -> Result<PollStats, EngineError> {
        let now = self.now();
        let lease = now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now);
        let due = self.store().claim_due_polls(node, now, lease, 20).await?;
        let mut stats = PollStats::default();
        for (connection, sealed) in due {
            stats.polled += 1;
            let outcome = self.poll_one(client, &connection, sealed.as_deref()).await;
            let error = match outcome {
                Ok((taken, refused)) => {
                    stats.taken += taken;
                    stats.refused += refused;
                    None
                }
                Err(e) => {
                    stats.failed += 1;
                    tracing::warn!(connection_id = %connection.id, error = %e, "AlpineBits poll failed");
                    Some(format!("poll: {e}"))
                }
            };
            self.note_channel_activity(connection.id, error.as_deref())
                .await;
            let every = SignedDuration::from_secs(connection.poll_every_secs.unwrap_or(300));
            let next = self.now().checked_add(every).unwrap_or(now);
            self.store().finish_poll(connection.id, node, next).await?;
        }
        Ok(stats)
    }

    async fn poll_one(
        &self,
        client: &bellhop_transport::alpinebits::AlpineBitsClient,
        connection: &Connection,
        sealed: Option<&str>,
    ) -> Result<(usize, usize), String> {
        let (Some(url), Some(user), Some(hotel)) = (
            connection.poll_url.as_deref(),
            connection.poll_user.as_deref(),
            connection.poll_hotel_code.as_deref(),
        ) else {
            return Err("polling is not set up".into());
        };
        let password = sealed
            .and_then(|s| self.signer().open(POLL_SECRET, s))
            .ok_or("the stored password cannot be opened with this installation's key")?;
        let limits = bellhop_alpinebits::Limits::default();
        let answer = client
            .exchange(
                url,
                user,
                &password,
                "OTA_Read:GuestRequests",
                &bellhop_alpinebits::read_request(hotel, None),
            )
            .await
            .map_err(|e| e.to_string())?;
        let read = bellhop_alpinebits::parse_guest_requests(&answer, &limits)
            .map_err(|e| format!("the channel's answer is refused: {e}"))?;
        if read.message != "OTA_ResRetrieveRS" {
            return Err(format!("the channel answered {}", read.message));
        }
        if !read.errors.is_empty() {
            return Err(format!("the channel reported {}", read.errors.join("; ")));
        }
        let (acks, refused) = self
            .take_guest_requests(connection, read.reservations)
            .await;
        if !acks.is_empty() || !refused.is_empty() {
            client
                .exchange(
                    url,
                    user,
                    &password,
                    "OTA_NotifReport:GuestRequests",
                    &bellhop_alpinebits::notif_report_request(&acks, &refused),
                )
                .await
                .map_err(|e| format!("acknowledgement not delivered: {e}"))?;
        }
        Ok((acks.len(), refused.len()))
    }

    /// Takes an AlpineBits message's reservations like pushes: the acknowledgements of those
    /// taken, and (id, why) for those refused. One that failed for a reason of bellhop's own
    /// is in neither, so the channel sends it again.
    pub async fn take_guest_requests(
        &self,
        connection: &Connection,
        requests: Vec<bellhop_alpinebits::GuestRequest>,
    ) -> (Vec<bellhop_alpinebits::Ack>, Vec<(String, String)>) {
        let mut acks = Vec::new();
        let mut refused = Vec::new();
        for g in requests {
            let id = g.reservation.external_id.clone();
            match self.push_reservation(connection, &g.reservation).await {
                Ok(p) if p.outcome != PushOutcome::HoldLapsed => {
                    acks.push(bellhop_alpinebits::Ack {
                        kind: g.unique_id_type,
                        id,
                    })
                }
                Ok(p) => refused.push((id, p.detail.unwrap_or_default())),
                Err(EngineError::Invalid { field, message }) => {
                    refused.push((id, format!("{field}: {message}")))
                }
                Err(EngineError::Conflict(why)) => refused.push((id, why)),
                Err(e) => {
                    tracing::error!(error = %e, external_id = %id, "cannot take an AlpineBits reservation")
                }
            }
        }
        (acks, refused)
    }

    /// Refuses what only the channel may do to its booking, and queues the change for the
    /// channel when staff moved its dates or room. Runs inside the change's transaction.
    pub(crate) async fn guard_channel_booking(
        &self,
        tx: &mut Tx,
        old: &Booking,
        draft: &BookingFields,
        actor: &str,
    ) -> Result<(), EngineError> {
        let Some(connection) = tx.booking_connection(old.id).await? else {
            return Ok(());
        };
        if actor == format!("channel:{}", connection.id) {
            return Ok(());
        }
        let name = &connection.name;
        let (from, to) = (old.fields.status, draft.status);
        if from != to {
            let allowed = matches!(
                (from, to),
                (
                    BookingStatus::Confirmed,
                    BookingStatus::CheckedIn | BookingStatus::NoShow
                ) | (BookingStatus::CheckedIn, BookingStatus::CheckedOut)
            );
            if to == BookingStatus::Cancelled {
                return Err(EngineError::Conflict(format!(
                    "this booking came from {name}: cancel it via {name}; the cancellation then \
                     reaches bellhop and the guest is told"
                )));
            }
            if !allowed {
                return Err(EngineError::Conflict(format!(
                    "this booking came from {name}: its status {from} changes only through \
                     {name} (payment, cancellation)"
                )));
            }
        }
        let (a, b) = (&old.fields.details, &draft.details);
        for (field, before, after) in [
            ("external_id", &a.external_id, &b.external_id),
            ("source_channel", &a.source_channel, &b.source_channel),
            ("voucher", &a.voucher, &b.voucher),
        ] {
            if before != after {
                return Err(EngineError::invalid(
                    field,
                    format!("set by {name}; it cannot be changed here"),
                ));
            }
        }
        let moved = old.fields.schedule != draft.schedule || a.room_category != b.room_category;
        if moved && connection.webhook_url.is_some() {
            let body = change_notice(&connection, old, draft, actor, self.now());
            let message = AdHocMessage {
                id: Uuid::now_v7(),
                account_id: old.account_id,
                property_id: old.fields.property_id,
                contact_id: old.fields.contact_id,
                booking_id: Some(old.id),
                kind: MessageKind::ChannelChange,
                channel: "webhook",
                occurrence: format!("channel_change:{}:{}", connection.id, old.version + 1),
                campaign_id: None,
                sms_text: Some(body),
                due_at: self.now(),
                priority: 1,
                status: MessageStatus::Planned,
                reason: None,
            };
            tx.insert_ad_hoc_messages(&[message], self.now()).await?;
        }
        Ok(())
    }
}

/// The answer to an unpaid hold re-sent after it lapsed: it stays lapsed, and staff are told
/// once that the channel keeps sending it.
async fn lapsed_hold(
    tx: &mut Tx,
    connection: &Connection,
    r: &Reservation,
    stored: &StoredReservation,
    booking: Booking,
    held_since: Option<Timestamp>,
    now: Timestamp,
) -> Result<Pushed, EngineError> {
    if !stored.hold_reported {
        let minutes = held_since
            .map(|t| now.duration_since(t).as_mins())
            .unwrap_or_default();
        tx.report_resent_hold(connection, &r.external_id, minutes, now)
            .await?;
    }
    Ok(Pushed {
        outcome: PushOutcome::HoldLapsed,
        booking: Some(booking),
        detail: Some("the unpaid hold lapsed; it stays lapsed".into()),
        plan: PlanSummary::default(),
    })
}

/// The JSON a channel receives for a staff change of its booking.
fn change_notice(
    connection: &Connection,
    old: &Booking,
    new: &BookingFields,
    actor: &str,
    now: Timestamp,
) -> String {
    let stay = |f: &BookingFields| match &f.schedule {
        bellhop_domain::Schedule::Stay { arrival, departure } => {
            (Some(arrival.to_string()), Some(departure.to_string()))
        }
        bellhop_domain::Schedule::Appointment { .. } => (None, None),
    };
    let (old_arrival, old_departure) = stay(&old.fields);
    let (arrival, departure) = stay(new);
    serde_json::json!({
        "event": "booking.changed",
        "connection_id": connection.id,
        "external_id": old.fields.details.external_id,
        "voucher": old.fields.details.voucher,
        "booking_id": old.id,
        "version": old.version + 1,
        "changed_by": actor,
        "changed_at": now.to_string(),
        "before": {
            "arrival": old_arrival,
            "departure": old_departure,
            "room_category": old.fields.details.room_category,
        },
        "after": {
            "arrival": arrival,
            "departure": departure,
            "room_category": new.details.room_category,
        },
    })
    .to_string()
}
