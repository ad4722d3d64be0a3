//! Autoresponder mailboxes, the addresses that route to them, case numbers, who was answered
//! when, and every inbound mail with its decision.

use crate::value::{Id, Ts, opt_id};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::mailbox::{ImapSource, Mailbox, ReplyText};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct MailboxRow {
    id: Id,
    account_id: Id,
    property_id: Id,
    name: String,
    address: String,
    aliases: String,
    replies: String,
    default_language: String,
    enabled: bool,
    active_from: Option<Ts>,
    active_until: Option<Ts>,
    period_secs: i64,
    case_prefix: Option<String>,
    sequence_id: Option<Id>,
    imap_host: Option<String>,
    imap_port: Option<i64>,
    imap_tls: bool,
    imap_user: Option<String>,
    imap_folder: Option<String>,
    imap_error: Option<String>,
    imap_checked_at: Option<Ts>,
    created_at: Ts,
}

const MAILBOX_COLUMNS: &str = "id, account_id, property_id, name, address, aliases, replies,
    default_language, enabled, active_from, active_until, period_secs, case_prefix, sequence_id,
    imap_host, imap_port, imap_tls, imap_user, imap_folder, imap_error, imap_checked_at, created_at";

impl TryFrom<MailboxRow> for Mailbox {
    type Error = StoreError;
    fn try_from(r: MailboxRow) -> Result<Self, StoreError> {
        let aliases: Vec<String> = serde_json::from_str(&r.aliases)
            .map_err(|e| StoreError::Corrupt(format!("mailbox aliases: {e}")))?;
        let replies: BTreeMap<String, ReplyText> = serde_json::from_str(&r.replies)
            .map_err(|e| StoreError::Corrupt(format!("mailbox replies: {e}")))?;
        Ok(Mailbox {
            id: r.id.0,
            account_id: r.account_id.0,
            property_id: r.property_id.0,
            name: r.name,
            address: r.address,
            aliases,
            replies,
            default_language: r.default_language,
            enabled: r.enabled,
            active_from: r.active_from.map(|t| t.0),
            active_until: r.active_until.map(|t| t.0),
            period_secs: r.period_secs,
            case_prefix: r.case_prefix,
            sequence_id: r.sequence_id.map(|i| i.0),
            imap: match (r.imap_host, r.imap_user) {
                (Some(host), Some(user)) => Some(ImapSource {
                    host,
                    port: u16::try_from(r.imap_port.unwrap_or(993)).unwrap_or(993),
                    tls: r.imap_tls,
                    user,
                    folder: r.imap_folder.unwrap_or_else(|| "INBOX".into()),
                    last_error: r.imap_error,
                    checked_at: r.imap_checked_at.map(|t| t.0),
                }),
                _ => None,
            },
            created_at: r.created_at.0,
        })
    }
}

async fn mailbox_of(conn: Conn<'_>, account: Uuid, id: Uuid) -> Result<Mailbox, StoreError> {
    let row: Option<MailboxRow> = on!(conn, c, _db => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE id = $1 AND account_id = $2"
        )))
        .bind(Id(id))
        .bind(Id(account))
        .fetch_optional(&mut *c)
        .await?
    });
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// An inbound mail as recorded.
#[derive(Clone, Debug, Serialize)]
pub struct InboundMail {
    /// Id.
    pub id: Uuid,
    /// The mailbox that received it.
    pub mailbox_id: Uuid,
    /// Its property.
    pub property_id: Uuid,
    /// `smtp`, `imap` or `api`.
    pub via: String,
    /// `MAIL FROM` (empty: the null sender).
    pub envelope_from: Option<String>,
    /// `RCPT TO`.
    pub envelope_to: Option<String>,
    /// The From address.
    pub from_address: Option<String>,
    /// The From name.
    pub from_name: Option<String>,
    /// Subject, decoded.
    pub subject: Option<String>,
    /// Its Message-ID.
    pub message_id: Option<String>,
    /// The language the reply was chosen for.
    pub language: Option<String>,
    /// `replied`, `not_replied`, `failed` or `refused`.
    pub decision: String,
    /// A stable code of the reason (`reply`, `null_sender`, `period`, `inactive`, ...).
    pub reason_code: String,
    /// Why, in words.
    pub reason: String,
    /// Its case number.
    pub case_number: Option<String>,
    /// The contact it came from.
    pub contact_id: Option<Uuid>,
    /// The reply in the outbox.
    pub reply_message_id: Option<Uuid>,
    /// Bytes.
    pub size: i64,
    /// When it arrived.
    pub received_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct InboundRow {
    id: Id,
    mailbox_id: Id,
    property_id: Id,
    via: String,
    envelope_from: Option<String>,
    envelope_to: Option<String>,
    from_address: Option<String>,
    from_name: Option<String>,
    subject: Option<String>,
    message_id: Option<String>,
    language: Option<String>,
    decision: String,
    reason_code: String,
    reason: String,
    case_number: Option<String>,
    contact_id: Option<Id>,
    reply_message_id: Option<Id>,
    size: i64,
    received_at: Ts,
}

const INBOUND_COLUMNS: &str = "id, mailbox_id, property_id, via, envelope_from, envelope_to,
    from_address, from_name, subject, message_id, language, decision, reason_code, reason,
    case_number, contact_id, reply_message_id, size, received_at";

impl From<InboundRow> for InboundMail {
    fn from(r: InboundRow) -> Self {
        InboundMail {
            id: r.id.0,
            mailbox_id: r.mailbox_id.0,
            property_id: r.property_id.0,
            via: r.via,
            envelope_from: r.envelope_from,
            envelope_to: r.envelope_to,
            from_address: r.from_address,
            from_name: r.from_name,
            subject: r.subject,
            message_id: r.message_id,
            language: r.language,
            decision: r.decision,
            reason_code: r.reason_code,
            reason: r.reason,
            case_number: r.case_number,
            contact_id: r.contact_id.map(|i| i.0),
            reply_message_id: r.reply_message_id.map(|i| i.0),
            size: r.size,
            received_at: r.received_at.0,
        }
    }
}

/// An inbound mail to record, with its raw bytes.
#[derive(Clone, Debug)]
pub struct NewInboundMail<'a> {
    /// The record.
    pub mail: InboundMail,
    /// The account.
    pub account_id: Uuid,
    /// Where it was read from (taken once per mailbox).
    pub source_key: Option<String>,
    /// The message as received.
    pub raw: &'a [u8],
}

/// Filters of the inbound list.
#[derive(Clone, Debug, Default)]
pub struct InboundFilter {
    /// One mailbox.
    pub mailbox: Option<Uuid>,
    /// One decision.
    pub decision: Option<String>,
    /// Sender address (exact, case-insensitive).
    pub sender: Option<String>,
    /// Received at or after.
    pub since: Option<Timestamp>,
    /// Received before.
    pub until: Option<Timestamp>,
    /// At most this many, newest first.
    pub limit: i64,
}

impl Store {
    /// The account's mailboxes.
    pub async fn mailboxes(&self, account: Uuid) -> Result<Vec<Mailbox>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<MailboxRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE account_id = $1 ORDER BY created_at, id"
            )))
            .bind(Id(account))
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter().map(Mailbox::try_from).collect()
    }

    /// One mailbox of the account.
    pub async fn mailbox(&self, account: Uuid, id: Uuid) -> Result<Mailbox, StoreError> {
        let mut pooled = self.acquire().await?;
        mailbox_of(pooled.conn(), account, id).await
    }

    /// The mailbox an address (or alias) routes to, of any account: the SMTP listener's
    /// question at `RCPT`.
    pub async fn mailbox_by_address(&self, address: &str) -> Result<Option<Mailbox>, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: Option<MailboxRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MAILBOX_COLUMNS} FROM mailboxes
                 WHERE id = (SELECT mailbox_id FROM mailbox_addresses WHERE address = $1)"
            )))
            .bind(address.to_ascii_lowercase())
            .fetch_optional(&mut *c)
            .await?
        });
        row.map(Mailbox::try_from).transpose()
    }

    /// The account's inbound mail, newest first.
    pub async fn inbound_mails(
        &self,
        account: Uuid,
        filter: &InboundFilter,
    ) -> Result<Vec<InboundMail>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<InboundRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {INBOUND_COLUMNS} FROM inbound_mails
                 WHERE account_id = $1 AND ($2 IS NULL OR mailbox_id = $2)
                   AND ($3 IS NULL OR decision = $3) AND ($4 IS NULL OR lower(envelope_from) = $4)
                   AND ($5 IS NULL OR received_at >= $5) AND ($6 IS NULL OR received_at < $6)
                 ORDER BY received_at DESC, id DESC LIMIT $7"
            )))
            .bind(Id(account))
            .bind(opt_id(filter.mailbox))
            .bind(filter.decision.as_deref())
            .bind(filter.sender.as_deref().map(str::to_ascii_lowercase))
            .bind(filter.since.map(Ts))
            .bind(filter.until.map(Ts))
            .bind(filter.limit)
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows.into_iter().map(InboundMail::from).collect())
    }

    /// Every inbound mail from a contact, with the messages as received (its export).
    pub async fn inbound_mails_of(
        &self,
        account: Uuid,
        contact: Uuid,
    ) -> Result<Vec<(InboundMail, Option<Vec<u8>>)>, StoreError> {
        let ids: Vec<Id> = {
            let mut pooled = self.acquire().await?;
            on!(pooled.conn(), c, _db => {
                sqlx::query_scalar(
                    "SELECT id FROM inbound_mails WHERE account_id = $1 AND contact_id = $2
                     ORDER BY received_at, id",
                )
                .bind(Id(account))
                .bind(Id(contact))
                .fetch_all(&mut *c)
                .await?
            })
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.inbound_mail(account, id.0).await?);
        }
        Ok(out)
    }

    /// One inbound mail of the account, with the message as received.
    pub async fn inbound_mail(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<(InboundMail, Option<Vec<u8>>), StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            mail: InboundRow,
            raw: Option<Vec<u8>>,
        }
        let mut pooled = self.acquire().await?;
        let row: Option<Row> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {INBOUND_COLUMNS}, raw FROM inbound_mails WHERE id = $1 AND account_id = $2"
            )))
            .bind(Id(id))
            .bind(Id(account))
            .fetch_optional(&mut *c)
            .await?
        });
        let row = row.ok_or(StoreError::NotFound)?;
        let raw = row
            .raw
            .map(|packed| {
                lz4_flex::decompress_size_prepended(&packed)
                    .map_err(|e| StoreError::Corrupt(format!("inbound mail: {e}")))
            })
            .transpose()?;
        Ok((row.mail.into(), raw))
    }
}

/// A mailbox leased to one node for watching over IMAP.
#[derive(Clone, Debug)]
pub struct ImapLease {
    /// The mailbox.
    pub mailbox: Mailbox,
    /// Its password, sealed.
    pub sealed_secret: Option<String>,
    /// The UIDVALIDITY and last UID taken, if any.
    pub progress: Option<(u32, u32)>,
}

impl Store {
    /// Leases to `node` until `lease_until` the mailboxes watched over IMAP that no node
    /// watches now.
    pub async fn claim_imap(
        &self,
        node: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<ImapLease>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            mailbox: MailboxRow,
            imap_secret: Option<String>,
            imap_uid_validity: Option<i64>,
            imap_last_uid: Option<i64>,
        }
        let mut pooled = self.acquire().await?;
        let rows: Vec<Row> = on!(pooled.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE mailboxes SET imap_owner = $1, imap_until = $3
                 WHERE id IN (SELECT id FROM mailboxes
                   WHERE imap_host IS NOT NULL AND enabled = $5 AND (imap_until IS NULL OR imap_until < $2)
                   ORDER BY id LIMIT $4{})
                 RETURNING {MAILBOX_COLUMNS}, imap_secret, imap_uid_validity, imap_last_uid",
                db::SKIP_LOCKED
            )))
            .bind(node)
            .bind(Ts(now))
            .bind(Ts(lease_until))
            .bind(limit)
            .bind(true)
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                let progress = match (r.imap_uid_validity, r.imap_last_uid) {
                    (Some(v), Some(u)) => Some((v as u32, u as u32)),
                    _ => None,
                };
                Ok(ImapLease {
                    mailbox: r.mailbox.try_into()?,
                    sealed_secret: r.imap_secret,
                    progress,
                })
            })
            .collect()
    }

    /// Records how far `node` read a mailbox and extends its lease; `false` when the lease
    /// went to another node (then the reader stops: its writes would be stale).
    pub async fn imap_progress(
        &self,
        mailbox: Uuid,
        node: &str,
        progress: Option<(u32, u32)>,
        error: Option<&str>,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut pooled = self.acquire().await?;
        let n = on!(pooled.conn(), c, _db => {
            sqlx::query(
                "UPDATE mailboxes SET imap_uid_validity = COALESCE($3, imap_uid_validity),
                   imap_last_uid = COALESCE($4, imap_last_uid), imap_error = $5, imap_checked_at = $6,
                   imap_until = $7
                 WHERE id = $1 AND imap_owner = $2 AND imap_host IS NOT NULL",
            )
            .bind(Id(mailbox))
            .bind(node)
            .bind(progress.map(|(v, _)| i64::from(v)))
            .bind(progress.map(|(_, u)| i64::from(u)))
            .bind(error)
            .bind(Ts(now))
            .bind(Ts(lease_until))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Gives a mailbox's lease back (the node stops watching it).
    pub async fn release_imap(&self, mailbox: Uuid, node: &str) -> Result<(), StoreError> {
        let mut pooled = self.acquire().await?;
        on!(pooled.conn(), c, _db => {
            sqlx::query("UPDATE mailboxes SET imap_owner = NULL, imap_until = NULL WHERE id = $1 AND imap_owner = $2")
                .bind(Id(mailbox))
                .bind(node)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }
}

impl Tx {
    /// One mailbox of the account, as this transaction sees it.
    pub async fn mailbox(&mut self, account: Uuid, id: Uuid) -> Result<Mailbox, StoreError> {
        mailbox_of(self.conn(), account, id).await
    }

    /// Stores a mailbox (new or changed) and the addresses that route to it. An address
    /// another mailbox has is a conflict. `imap_secret` none keeps the stored password; a
    /// changed IMAP source starts over (its UIDs are another mailbox's).
    pub async fn save_mailbox(
        &mut self,
        m: &Mailbox,
        imap_secret: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let aliases = serde_json::to_string(&m.aliases)
            .map_err(|e| StoreError::Corrupt(format!("mailbox aliases: {e}")))?;
        let replies = serde_json::to_string(&m.replies)
            .map_err(|e| StoreError::Corrupt(format!("mailbox replies: {e}")))?;
        let addresses = m.addresses();
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO mailboxes (id, account_id, property_id, name, address, aliases, replies,
                   default_language, enabled, active_from, active_until, period_secs, case_prefix,
                   sequence_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, $14, $14)
                 ON CONFLICT (id) DO UPDATE SET name = $4, address = $5, aliases = $6, replies = $7,
                   default_language = $8, enabled = $9, active_from = $10, active_until = $11,
                   period_secs = $12, case_prefix = $13, sequence_id = $15, updated_at = $14",
            )
            .bind(Id(m.id))
            .bind(Id(m.account_id))
            .bind(Id(m.property_id))
            .bind(m.name.as_str())
            .bind(m.address.as_str())
            .bind(aliases.as_str())
            .bind(replies.as_str())
            .bind(m.default_language.as_str())
            .bind(m.enabled)
            .bind(m.active_from.map(Ts))
            .bind(m.active_until.map(Ts))
            .bind(m.period_secs)
            .bind(m.case_prefix.as_deref())
            .bind(Ts(now))
            .bind(opt_id(m.sequence_id))
            .execute(&mut *c)
            .await?;
            let imap = m.imap.as_ref();
            sqlx::query(
                "UPDATE mailboxes SET
                   imap_uid_validity = CASE WHEN imap_host IS NOT DISTINCT FROM $2 AND imap_user IS NOT DISTINCT FROM $4
                     AND imap_folder IS NOT DISTINCT FROM $6 THEN imap_uid_validity END,
                   imap_last_uid = CASE WHEN imap_host IS NOT DISTINCT FROM $2 AND imap_user IS NOT DISTINCT FROM $4
                     AND imap_folder IS NOT DISTINCT FROM $6 THEN imap_last_uid END,
                   imap_host = $2, imap_port = $3, imap_user = $4, imap_tls = $5, imap_folder = $6,
                   imap_secret = CASE WHEN $2 IS NULL THEN NULL ELSE COALESCE($7, imap_secret) END,
                   imap_error = NULL
                 WHERE id = $1",
            )
            .bind(Id(m.id))
            .bind(imap.map(|i| i.host.as_str()))
            .bind(imap.map(|i| i64::from(i.port)))
            .bind(imap.map(|i| i.user.as_str()))
            .bind(imap.is_none_or(|i| i.tls))
            .bind(imap.map(|i| i.folder.as_str()))
            .bind(imap_secret)
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM mailbox_addresses WHERE mailbox_id = $1")
                .bind(Id(m.id))
                .execute(&mut *c)
                .await?;
            for address in &addresses {
                sqlx::query("INSERT INTO mailbox_addresses (address, mailbox_id) VALUES ($1, $2)")
                    .bind(address.as_str())
                    .bind(Id(m.id))
                    .execute(&mut *c)
                    .await?;
            }
        });
        Ok(())
    }

    /// Deletes a mailbox of the account; its recorded mail stays (without the mailbox's
    /// addresses routing anywhere).
    pub async fn delete_mailbox(&mut self, account: Uuid, id: Uuid) -> Result<(), StoreError> {
        let n = on!(self.conn(), c, _db => {
            sqlx::query("DELETE FROM mailbox_addresses WHERE mailbox_id = (SELECT id FROM mailboxes WHERE id = $1 AND account_id = $2)")
                .bind(Id(id))
                .bind(Id(account))
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE mailboxes SET enabled = $3 WHERE id = $1 AND account_id = $2")
                .bind(Id(id))
                .bind(Id(account))
                .bind(false)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The next case number of a mailbox in `year`: one counter row per mailbox and year,
    /// incremented under its row lock, so concurrent mails never share a number.
    pub async fn next_case(&mut self, mailbox: Uuid, year: i16) -> Result<i64, StoreError> {
        let n: i64 = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "INSERT INTO mailbox_cases (mailbox_id, year, last) VALUES ($1, $2, 1)
                 ON CONFLICT (mailbox_id, year) DO UPDATE SET last = mailbox_cases.last + 1
                 RETURNING last",
            )
            .bind(Id(mailbox))
            .bind(i64::from(year))
            .fetch_one(&mut *c)
            .await?
        });
        Ok(n)
    }

    /// Takes the right to answer `sender` from `mailbox` now: true when it was not answered
    /// within `period_secs` (and records `now`), false otherwise. One statement, so two
    /// mails of one sender arriving together are answered once.
    pub async fn take_reply_slot(
        &mut self,
        mailbox: Uuid,
        sender: &str,
        period_secs: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let cutoff = now
            .checked_sub(jiff::SignedDuration::from_secs(period_secs))
            .unwrap_or(Timestamp::MIN);
        let n = on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO mailbox_replies (mailbox_id, sender, replied_at) VALUES ($1, $2, $3)
                 ON CONFLICT (mailbox_id, sender) DO UPDATE SET replied_at = $3
                 WHERE mailbox_replies.replied_at <= $4",
            )
            .bind(Id(mailbox))
            .bind(sender.to_ascii_lowercase())
            .bind(Ts(now))
            .bind(Ts(cutoff))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n == 1 || period_secs == 0)
    }

    /// Records an inbound mail. `false` when the mailbox already has the mail from the same
    /// source (read twice).
    pub async fn record_inbound(&mut self, m: &NewInboundMail<'_>) -> Result<bool, StoreError> {
        let raw = lz4_flex::compress_prepend_size(m.raw);
        let r = &m.mail;
        let n = on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO inbound_mails (id, account_id, property_id, mailbox_id, via, source_key,
                   envelope_from, envelope_to, from_address, from_name, subject, message_id, language,
                   decision, reason_code, reason, case_number, contact_id, reply_message_id, raw, size,
                   received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                   $18, $19, $20, $21, $22)
                 ON CONFLICT (mailbox_id, source_key) DO NOTHING",
            )
            .bind(Id(r.id))
            .bind(Id(m.account_id))
            .bind(Id(r.property_id))
            .bind(Id(r.mailbox_id))
            .bind(r.via.as_str())
            .bind(m.source_key.as_deref())
            .bind(r.envelope_from.as_deref())
            .bind(r.envelope_to.as_deref())
            .bind(r.from_address.as_deref())
            .bind(r.from_name.as_deref())
            .bind(r.subject.as_deref())
            .bind(r.message_id.as_deref())
            .bind(r.language.as_deref())
            .bind(r.decision.as_str())
            .bind(r.reason_code.as_str())
            .bind(r.reason.as_str())
            .bind(r.case_number.as_deref())
            .bind(opt_id(r.contact_id))
            .bind(opt_id(r.reply_message_id))
            .bind(raw)
            .bind(r.size)
            .bind(Ts(r.received_at))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }
}
