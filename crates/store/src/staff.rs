//! The staff web UI's records: users (owner or staff) with their argon2 password hashes,
//! sessions by the hash of their cookie, failed sign-ins for throttling, password reset links
//! by the hash of their token, and the account's API keys as listed in the UI.

use crate::value::{Id, Ts, opt_ts};
use crate::{Store, StoreError, Tx};
use jiff::Timestamp;
use uuid::Uuid;

/// A user as stored.
#[derive(Clone, Debug)]
pub struct UserRecord {
    /// Id.
    pub id: Uuid,
    /// The account the user works for.
    pub account_id: Uuid,
    /// Lowercased sign-in address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `owner` or `staff`.
    pub role: String,
    /// `de`, `en`; `None`: the browser's.
    pub language: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Created.
    pub created_at: Timestamp,
    /// Disabled users cannot sign in.
    pub disabled_at: Option<Timestamp>,
}

/// A live session with its user.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    /// The user.
    pub user: UserRecord,
    /// Token the session's forms carry.
    pub csrf: String,
    /// Last request.
    pub last_seen_at: Timestamp,
    /// When it ends unless used again.
    pub expires_at: Timestamp,
    /// When it began (sessions end a fixed time after this however busy).
    pub created_at: Timestamp,
}

/// An API key as listed: never its secret.
#[derive(Clone, Debug)]
pub struct ApiKeyInfo {
    /// Id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The public part (`bh_<prefix>_…`).
    pub prefix: String,
    /// Created.
    pub created_at: Timestamp,
    /// Revoked.
    pub revoked_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Id,
    account_id: Id,
    email: String,
    name: String,
    role: String,
    language: Option<String>,
    password_hash: String,
    created_at: Ts,
    disabled_at: Option<Ts>,
}

impl From<UserRow> for UserRecord {
    fn from(r: UserRow) -> Self {
        UserRecord {
            id: r.id.0,
            account_id: r.account_id.0,
            email: r.email,
            name: r.name,
            role: r.role,
            language: r.language,
            password_hash: r.password_hash,
            created_at: r.created_at.0,
            disabled_at: r.disabled_at.map(|t| t.0),
        }
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf: String,
    last_seen_at: Ts,
    expires_at: Ts,
    session_created_at: Ts,
}

#[derive(sqlx::FromRow)]
struct ApiKeyInfoRow {
    id: Id,
    name: String,
    prefix: String,
    created_at: Ts,
    revoked_at: Option<Ts>,
}

const USER_COLUMNS: &str = "u.id, u.account_id, u.email, u.name, u.role, u.language, u.password_hash, u.created_at, u.disabled_at";

impl Store {
    /// The user with this sign-in address (any account: the user tells which).
    pub async fn user_by_email(&self, email: &str) -> Result<UserRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
        let row: UserRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(email).fetch_one(&mut *c).await?
        });
        Ok(row.into())
    }

    /// A user of the account.
    pub async fn user(&self, account: Uuid, id: Uuid) -> Result<UserRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.account_id = $2");
        let row: UserRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(Id(id)).bind(Id(account)).fetch_one(&mut *c).await?
        });
        Ok(row.into())
    }

    /// The account's users, by name.
    pub async fn users(&self, account: Uuid) -> Result<Vec<UserRecord>, StoreError> {
        let mut pooled = self.acquire().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.account_id = $1 ORDER BY u.name, u.email"
        );
        let rows: Vec<UserRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(Id(account)).fetch_all(&mut *c).await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The session whose cookie hashes to `token_hash`, if it has not expired at `now` and
    /// its user is enabled.
    pub async fn staff_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.last_seen_at, s.expires_at, s.created_at AS session_created_at
             FROM staff_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
        );
        let row: SessionRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(token_hash).bind(Ts(now)).fetch_one(&mut *c).await?
        });
        Ok(SessionRecord {
            user: row.user.into(),
            csrf: row.csrf,
            last_seen_at: row.last_seen_at.0,
            expires_at: row.expires_at.0,
            created_at: row.session_created_at.0,
        })
    }

    /// Failed sign-ins since `since`: for this address, and from this peer.
    pub async fn sign_in_failures(
        &self,
        email: &str,
        ip: &str,
        since: Timestamp,
    ) -> Result<(i64, i64), StoreError> {
        let mut pooled = self.acquire().await?;
        let counts: (i64, i64) = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND at > $3),
                        (SELECT COUNT(*) FROM sign_in_failures WHERE ip = $2 AND at > $3)",
            )
            .bind(email)
            .bind(ip)
            .bind(Ts(since))
            .fetch_one(&mut *c)
            .await?
        });
        Ok(counts)
    }

    /// The account's API keys, newest first.
    pub async fn api_keys(&self, account: Uuid) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<ApiKeyInfoRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT id, name, prefix, created_at, revoked_at FROM api_keys
                 WHERE account_id = $1 ORDER BY created_at DESC, id DESC",
            )
            .bind(Id(account))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| ApiKeyInfo {
                id: r.id.0,
                name: r.name,
                prefix: r.prefix,
                created_at: r.created_at.0,
                revoked_at: r.revoked_at.map(|t| t.0),
            })
            .collect())
    }
}

impl Tx {
    /// Stores a new user; a taken address is `Duplicate { users_email_key }`.
    pub async fn insert_user(&mut self, user: &UserRecord) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO users (id, account_id, email, name, role, language, password_hash, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(Id(user.id))
            .bind(Id(user.account_id))
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.role)
            .bind(&user.language)
            .bind(&user.password_hash)
            .bind(Ts(user.created_at))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Changes a user's name, role, language and whether it is disabled.
    pub async fn update_user(
        &mut self,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE users SET name = $3, role = $4, language = $5, disabled_at = $6, updated_at = $7
                 WHERE id = $1 AND account_id = $2",
            )
            .bind(Id(user.id))
            .bind(Id(user.account_id))
            .bind(&user.name)
            .bind(&user.role)
            .bind(&user.language)
            .bind(opt_ts(user.disabled_at))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces a user's password hash and ends every session of the user.
    pub async fn set_password(
        &mut self,
        user: Uuid,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(Id(user))
                .bind(password_hash)
                .bind(Ts(now))
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1")
                .bind(Id(user))
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Starts a session.
    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        user: &UserRecord,
        csrf: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO staff_sessions (token_hash, user_id, account_id, csrf, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $5, $6)",
            )
            .bind(token_hash)
            .bind(Id(user.id))
            .bind(Id(user.account_id))
            .bind(csrf)
            .bind(Ts(now))
            .bind(Ts(expires_at))
            .execute(&mut *c)
            .await?;
            // Expired sessions of anyone go with each new one: no sweep needed.
            sqlx::query("DELETE FROM staff_sessions WHERE expires_at <= $1")
                .bind(Ts(now))
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Extends a session that is in use.
    pub async fn touch_session(
        &mut self,
        token_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query("UPDATE staff_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(Ts(now))
                .bind(Ts(expires_at))
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Ends a session.
    pub async fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Records a failed sign-in; failures older than `forget_before` go.
    pub async fn insert_sign_in_failure(
        &mut self,
        email: &str,
        ip: &str,
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query("INSERT INTO sign_in_failures (id, email, ip, at) VALUES ($1, $2, $3, $4)")
                .bind(Id(Uuid::now_v7()))
                .bind(email)
                .bind(ip)
                .bind(Ts(now))
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
                .bind(Ts(forget_before))
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Forgets an address's failed sign-ins (after it signed in).
    pub async fn clear_sign_in_failures(&mut self, email: &str) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
                .bind(email)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Stores a password reset link's token hash.
    pub async fn insert_password_reset(
        &mut self,
        token_hash: &str,
        user: Uuid,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(Id(user))
            .bind(Ts(now))
            .bind(Ts(expires_at))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Uses a reset link once: its user, or `NotFound` when unknown, used or expired.
    pub async fn take_password_reset(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Uuid, StoreError> {
        let user: Id = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "UPDATE password_resets SET used_at = $2
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
            )
            .bind(token_hash)
            .bind(Ts(now))
            .fetch_one(&mut *c)
            .await?
        });
        Ok(user.0)
    }

    /// Revokes an API key of the account.
    pub async fn revoke_api_key(
        &mut self,
        account: Uuid,
        id: Uuid,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3), updated_at = $3
                 WHERE id = $1 AND account_id = $2",
            )
            .bind(Id(id))
            .bind(Id(account))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The name of an API key of the account (to rotate it under the same name).
    pub async fn api_key_name(&mut self, account: Uuid, id: Uuid) -> Result<String, StoreError> {
        Ok(on!(self.conn(), c, _db => {
            sqlx::query_scalar("SELECT name FROM api_keys WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL")
                .bind(Id(id))
                .bind(Id(account))
                .fetch_one(&mut *c)
                .await?
        }))
    }
}
