//! The people who use the staff web UI, and the account's API keys: users with roles and
//! argon2id password hashes, sign-in with throttling, sessions kept in the database by the
//! SHA-256 of their cookie (so a stolen database holds no usable session), password reset
//! links used once, and keys created, revoked and rotated.

use crate::error::EngineError;
use crate::service::Engine;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use bellhop_store::{ApiKeyInfo, StoreError, UserRecord};
use jiff::SignedDuration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use uuid::Uuid;

/// A session ends after this long without a request.
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(12);
/// A session ends this long after sign-in however busy it is.
pub const SESSION_MAX: SignedDuration = SignedDuration::from_hours(24 * 14);
/// A password reset link holds this long.
pub const RESET_VALID: SignedDuration = SignedDuration::from_mins(60);
/// Failed sign-ins count for throttling this long.
pub const FAILURE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Failed sign-ins for one address within the window before sign-in is refused.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 5;
/// Failed sign-ins from one peer within the window before sign-in is refused.
pub const MAX_FAILURES_PER_PEER: i64 = 30;
/// Shortest password taken.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password taken (argon2 reads it all; a megabyte password is an attack).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What a user may do: owners also manage users, API keys, properties and SMS settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Owner,
    /// The daily work: bookings, messages, templates, rules, consent.
    Staff,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
        }
    }

    /// Reads a stored or submitted name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

/// A user as the UI sees it (never the hash).
#[derive(Clone, Debug)]
pub struct StaffUser {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// Sign-in address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// `de`/`en`, or the browser's.
    pub language: Option<String>,
    /// Disabled users cannot sign in.
    pub disabled: bool,
}

impl From<UserRecord> for StaffUser {
    fn from(u: UserRecord) -> Self {
        StaffUser {
            id: u.id,
            account_id: u.account_id,
            email: u.email,
            name: u.name,
            role: Role::parse(&u.role).unwrap_or(Role::Staff),
            language: u.language,
            disabled: u.disabled_at.is_some(),
        }
    }
}

/// A signed-in user's session.
#[derive(Clone, Debug)]
pub struct StaffSession {
    /// Who.
    pub user: StaffUser,
    /// The token every form of this session carries.
    pub csrf: String,
}

/// A new session: `token` goes into the cookie, once.
#[derive(Debug)]
pub struct SignedIn {
    /// The cookie's value.
    pub token: String,
    /// The session.
    pub session: StaffSession,
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown address, wrong password or disabled user (not told apart).
    #[error("wrong address or password")]
    Wrong,
    /// Too many failures lately.
    #[error("too many failed sign-ins; try again later")]
    Throttled,
    /// Storage failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A user to create.
#[derive(Clone)]
pub struct NewUser {
    /// Sign-in address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// `de`/`en`, or the browser's.
    pub language: Option<String>,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("language", &self.language)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A freshly made API key: show `token` once, store `prefix` and `secret_hash`.
pub struct NewKey {
    /// What the client sends.
    pub token: String,
    /// Lookup part.
    pub prefix: String,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
}

/// Makes an API key `bh_<prefix>_<secret>` (48 + 128 random bits). Keys are random, so a fast
/// hash is the right tool for them (argon2 is for passwords people choose).
pub fn generate_key() -> NewKey {
    let mut rng = rand::rng();
    let mut prefix = [0u8; 6];
    let mut secret = [0u8; 16];
    rng.fill_bytes(&mut prefix);
    rng.fill_bytes(&mut secret);
    let (prefix, secret) = (hex::encode(prefix), hex::encode(secret));
    NewKey {
        token: format!("bh_{prefix}_{secret}"),
        secret_hash: sha256_hex(&secret),
        prefix,
    }
}

/// Hex SHA-256: how key secrets, session cookies and reset tokens are stored.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn check_password(password: &str) -> Result<(), EngineError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(EngineError::invalid(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(EngineError::invalid(
            "password",
            format!("at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// An argon2id hash (the crate's defaults: 19 MiB, 2 passes, RFC 9106's second choice).
fn hash_password(password: &str) -> Result<String, EngineError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| EngineError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| EngineError::Internal(format!("argon2: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the address is unknown, so that an unknown address takes
/// as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never matches").unwrap_or_default())
}

fn check_user_fields(name: &str, language: Option<&str>) -> Result<(), EngineError> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(EngineError::invalid("name", "1 to 200 characters"));
    }
    if let Some(l) = language
        && l != "de"
        && l != "en"
    {
        return Err(EngineError::invalid("language", "de or en"));
    }
    Ok(())
}

impl Engine {
    /// Creates a user of the account.
    pub async fn create_user(&self, account: Uuid, new: NewUser) -> Result<StaffUser, EngineError> {
        let email = normalize_email(&new.email);
        bellhop_domain::contact::EmailAddress::parse(&email)
            .map_err(|e| EngineError::invalid("email", e.to_string()))?;
        check_user_fields(&new.name, new.language.as_deref())?;
        check_password(&new.password)?;
        let now = self.now();
        let record = UserRecord {
            id: Uuid::now_v7(),
            account_id: account,
            email,
            name: new.name.trim().to_owned(),
            role: new.role.as_str().to_owned(),
            language: new.language,
            password_hash: hash_password(&new.password)?,
            created_at: now,
            disabled_at: None,
        };
        let mut tx = self.store().begin().await?;
        tx.insert_user(&record).await.map_err(|e| match e {
            StoreError::Duplicate { .. } => {
                EngineError::invalid("email", "a user with this address exists already")
            }
            StoreError::ForeignKey => EngineError::NotFound,
            e => e.into(),
        })?;
        tx.commit().await?;
        Ok(record.into())
    }

    /// Changes a user's name, role, language, or switches the user off (their sessions end
    /// when they next make a request). The last enabled owner stays an enabled owner.
    pub async fn update_user(
        &self,
        account: Uuid,
        id: Uuid,
        name: &str,
        role: Role,
        language: Option<String>,
        disabled: bool,
    ) -> Result<StaffUser, EngineError> {
        check_user_fields(name, language.as_deref())?;
        let mut user = self.store().user(account, id).await?;
        let owners = self
            .store()
            .users(account)
            .await?
            .into_iter()
            .filter(|u| u.role == "owner" && u.disabled_at.is_none() && u.id != id)
            .count();
        if owners == 0 && (role != Role::Owner || disabled) {
            return Err(EngineError::Conflict(
                "the account needs at least one enabled owner".into(),
            ));
        }
        let now = self.now();
        user.name = name.trim().to_owned();
        user.role = role.as_str().to_owned();
        user.language = language;
        user.disabled_at = match (disabled, user.disabled_at) {
            (false, _) => None,
            (true, Some(at)) => Some(at),
            (true, None) => Some(now),
        };
        let mut tx = self.store().begin().await?;
        tx.update_user(&user, now).await?;
        tx.commit().await?;
        Ok(user.into())
    }

    /// Signs a user in: a new session, or why not. Five failures for one address (thirty from
    /// one peer) within fifteen minutes refuse further tries until the window has passed.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        peer: &str,
    ) -> Result<SignedIn, SignInError> {
        let email = normalize_email(email);
        let now = self.now();
        let since = now - FAILURE_WINDOW;
        let (by_address, by_peer) = self
            .store()
            .sign_in_failures(&email, peer, since)
            .await
            .map_err(EngineError::from)?;
        if by_address >= MAX_FAILURES_PER_ADDRESS || by_peer >= MAX_FAILURES_PER_PEER {
            return Err(SignInError::Throttled);
        }
        let user = match self.store().user_by_email(&email).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(EngineError::from(e).into()),
        };
        let password = if password.len() > MAX_PASSWORD_BYTES {
            ""
        } else {
            password
        };
        let matches = match &user {
            Some(u) => password_matches(password, &u.password_hash),
            None => {
                password_matches(password, decoy_hash());
                false
            }
        };
        let mut tx = self.store().begin().await.map_err(EngineError::from)?;
        let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else {
            tx.insert_sign_in_failure(&email, peer, now, since)
                .await
                .map_err(EngineError::from)?;
            tx.commit().await.map_err(EngineError::from)?;
            return Err(SignInError::Wrong);
        };
        let (token, csrf) = (random_token(), random_token());
        tx.insert_session(&sha256_hex(&token), &user, &csrf, now, now + SESSION_IDLE)
            .await
            .map_err(EngineError::from)?;
        tx.clear_sign_in_failures(&email)
            .await
            .map_err(EngineError::from)?;
        tx.commit().await.map_err(EngineError::from)?;
        Ok(SignedIn {
            token,
            session: StaffSession {
                user: user.into(),
                csrf,
            },
        })
    }

    /// The live session of a cookie, extended while in use; `None` when unknown, expired, or
    /// its user is disabled.
    pub async fn staff_session(&self, token: &str) -> Result<Option<StaffSession>, EngineError> {
        if token.len() != 64 {
            return Ok(None);
        }
        let now = self.now();
        let hash = sha256_hex(token);
        let session = match self.store().staff_session(&hash, now).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if now.duration_since(session.created_at) > SESSION_MAX {
            return Ok(None);
        }
        // One write a minute at most per session, not one per request.
        if now.duration_since(session.last_seen_at) > SignedDuration::from_mins(1) {
            let mut tx = self.store().begin().await?;
            tx.touch_session(&hash, now, now + SESSION_IDLE).await?;
            tx.commit().await?;
        }
        Ok(Some(StaffSession {
            user: session.user.into(),
            csrf: session.csrf,
        }))
    }

    /// Ends the session of a cookie.
    pub async fn sign_out(&self, token: &str) -> Result<(), EngineError> {
        let mut tx = self.store().begin().await?;
        tx.delete_session(&sha256_hex(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A password reset link's token for the user with this address (`None` when there is
    /// none or it is disabled: the caller says the same either way).
    pub async fn request_password_reset(
        &self,
        email: &str,
    ) -> Result<Option<(StaffUser, String)>, EngineError> {
        let user = match self.store().user_by_email(&normalize_email(email)).await {
            Ok(u) if u.disabled_at.is_none() => u,
            Ok(_) | Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let now = self.now();
        let token = random_token();
        let mut tx = self.store().begin().await?;
        tx.insert_password_reset(&sha256_hex(&token), user.id, now, now + RESET_VALID)
            .await?;
        tx.commit().await?;
        Ok(Some((user.into(), token)))
    }

    /// Sets a new password through a reset link (once, within the hour); every session of
    /// the user ends.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), EngineError> {
        check_password(password)?;
        let hash = hash_password(password)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let user = tx
            .take_password_reset(&sha256_hex(token), now)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => EngineError::invalid(
                    "token",
                    "this link is not valid any more; ask for a new one",
                ),
                e => e.into(),
            })?;
        tx.set_password(user, &hash, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's users.
    pub async fn users(&self, account: Uuid) -> Result<Vec<StaffUser>, EngineError> {
        Ok(self
            .store()
            .users(account)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The account's API keys (never their secrets).
    pub async fn api_keys(&self, account: Uuid) -> Result<Vec<ApiKeyInfo>, EngineError> {
        Ok(self.store().api_keys(account).await?)
    }

    /// A new API key with a name: its id and the token, shown once.
    pub async fn create_api_key(
        &self,
        account: Uuid,
        name: &str,
    ) -> Result<(Uuid, String), EngineError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(EngineError::invalid("name", "1 to 100 characters"));
        }
        let key = generate_key();
        let mut tx = self.store().begin().await?;
        let id = tx
            .insert_api_key(account, name, &key.prefix, &key.secret_hash, self.now())
            .await?;
        tx.commit().await?;
        Ok((id, key.token))
    }

    /// Revokes an API key: requests with it are refused from now on.
    pub async fn revoke_api_key(&self, account: Uuid, id: Uuid) -> Result<(), EngineError> {
        let mut tx = self.store().begin().await?;
        tx.revoke_api_key(account, id, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a key: a new one under the same name, the old one revoked, in one transaction.
    pub async fn rotate_api_key(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<(Uuid, String), EngineError> {
        let now = self.now();
        let key = generate_key();
        let mut tx = self.store().begin().await?;
        let name = tx.api_key_name(account, id).await?;
        tx.revoke_api_key(account, id, now).await?;
        let new = tx
            .insert_api_key(account, &name, &key.prefix, &key.secret_hash, now)
            .await?;
        tx.commit().await?;
        Ok((new, key.token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse batterY", &hash));
        assert!(!password_matches("correct horse battery", "not a hash"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password("long enough!").is_ok());
    }

    #[test]
    fn keys_have_their_shape_and_hash() {
        let key = generate_key();
        let secret = key.token.rsplit('_').next().unwrap();
        assert_eq!(key.token, format!("bh_{}_{secret}", key.prefix));
        assert_eq!(key.secret_hash, sha256_hex(secret));
    }
}
