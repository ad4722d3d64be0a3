//! Contacts: guests and customers.

use crate::codec::{RowExt, corrupt, ms};
use crate::{Store, StoreError, Tx};
use bellhop_domain::Contact;
use jiff::Timestamp;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

pub(crate) fn contact_from_row(row: &AnyRow) -> Result<Contact, StoreError> {
    Ok(Contact {
        id: row.uuid("id")?,
        account_id: row.uuid("account_id")?,
        first_name: row.opt_text("first_name")?,
        last_name: row.opt_text("last_name")?,
        email: row.opt_text("email")?,
        phone: row.opt_text("phone")?,
        phone_e164: row.opt_text("phone_e164")?,
        phone_type: row.opt_parsed("phone_type")?,
        language: row.opt_text("language")?,
        address: row.opt_text("address")?,
        postal_code: row.opt_text("postal_code")?,
        city: row.opt_text("city")?,
        country: row.opt_text("country")?,
        nationality: row.opt_text("nationality")?,
        birth_date: row
            .opt_text("birth_date")?
            .map(|d| d.parse().map_err(|e| corrupt("birth_date", e)))
            .transpose()?,
    })
}

pub(crate) async fn contact(
    c: &mut AnyConnection,
    account: Uuid,
    id: Uuid,
) -> Result<Contact, StoreError> {
    let row = crate::sql::query("SELECT * FROM contacts WHERE id = ? AND account_id = ?")
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_one(c)
        .await?;
    contact_from_row(&row)
}

impl Tx {
    /// Stores a new contact, or replaces an existing one.
    pub async fn upsert_contact(&mut self, c: &Contact, now: Timestamp) -> Result<(), StoreError> {
        crate::sql::query(
            "INSERT INTO contacts (id, account_id, first_name, last_name, email, phone, phone_e164, phone_type,
               language, address, postal_code, city, country, nationality, birth_date, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
               email = excluded.email, phone = excluded.phone, phone_e164 = excluded.phone_e164,
               phone_type = excluded.phone_type, language = excluded.language,
               address = excluded.address, postal_code = excluded.postal_code, city = excluded.city,
               country = excluded.country, nationality = excluded.nationality,
               birth_date = excluded.birth_date, updated_at = excluded.updated_at
             WHERE contacts.account_id = excluded.account_id",
        )
        .bind(c.id.to_string())
        .bind(c.account_id.to_string())
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(&c.phone_e164)
        .bind(c.phone_type.map(|t| t.as_str()))
        .bind(&c.language)
        .bind(&c.address)
        .bind(&c.postal_code)
        .bind(&c.city)
        .bind(&c.country)
        .bind(&c.nationality)
        .bind(c.birth_date.map(|d| d.to_string()))
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The contact, read inside the transaction.
    pub async fn contact(&mut self, account: Uuid, id: Uuid) -> Result<Contact, StoreError> {
        contact(self.conn(), account, id).await
    }

    /// The account's contact with this email address, if any (to deduplicate).
    pub async fn contact_by_email(
        &mut self,
        account: Uuid,
        email: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let row = crate::sql::query(
            "SELECT * FROM contacts WHERE account_id = ? AND email = ? ORDER BY id LIMIT 1",
        )
        .bind(account.to_string())
        .bind(email)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(contact_from_row).transpose()
    }

    /// The account's contact with this E.164 number, if any (to deduplicate).
    pub async fn contact_by_phone(
        &mut self,
        account: Uuid,
        e164: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let row = crate::sql::query(
            "SELECT * FROM contacts WHERE account_id = ? AND phone_e164 = ? ORDER BY id LIMIT 1",
        )
        .bind(account.to_string())
        .bind(e164)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(contact_from_row).transpose()
    }

    /// The account's contacts among `ids`.
    pub async fn contacts_by_ids(
        &mut self,
        account: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Contact>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut q = crate::sql::Builder::new(
                self.backend,
                "SELECT * FROM contacts WHERE account_id = ",
            );
            q.push_bind(account.to_string()).push(" AND id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id.to_string());
            }
            q.push(")");
            for row in q.build().fetch_all(self.conn()).await? {
                found.push(contact_from_row(&row)?);
            }
        }
        Ok(found)
    }

    /// Ids of the contact's bookings (to re-plan them when the contact changes).
    pub async fn booking_ids_of_contact(
        &mut self,
        contact_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = crate::sql::query("SELECT id FROM bookings WHERE contact_id = ?")
            .bind(contact_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(|r| r.uuid("id")).collect()
    }
}

impl Store {
    /// A contact of the account.
    pub async fn contact(&self, account: Uuid, id: Uuid) -> Result<Contact, StoreError> {
        contact(&mut *self.pool.acquire().await?, account, id).await
    }

    /// The account's contacts, ordered by id (UUIDv7: creation order), after `after`.
    pub async fn contacts(
        &self,
        account: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Contact>, StoreError> {
        let rows = crate::sql::query(
            "SELECT * FROM contacts WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(account.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contact_from_row).collect()
    }
}
