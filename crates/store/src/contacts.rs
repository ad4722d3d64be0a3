//! Contacts: guests and customers.

use crate::error::corrupt;
use crate::value::{Day, Id, Ts};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::Contact;
use bellhop_domain::contact::EmailAddress;
use bellhop_domain::language::LanguageTag;
use bellhop_domain::phone::E164;
use jiff::Timestamp;
use uuid::Uuid;

/// A `contacts` row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    id: Id,
    account_id: Id,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    phone_e164: Option<String>,
    phone_type: Option<String>,
    language: Option<String>,
    address: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    country: Option<String>,
    nationality: Option<String>,
    birth_date: Option<Day>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;

    fn try_from(r: ContactRow) -> Result<Contact, StoreError> {
        Ok(Contact {
            id: r.id.0,
            account_id: r.account_id.0,
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email.map(EmailAddress::stored),
            phone: r.phone,
            phone_e164: r.phone_e164.map(E164::stored),
            phone_type: r
                .phone_type
                .map(|t| t.parse().map_err(|e| corrupt("phone_type", e)))
                .transpose()?,
            language: r.language.map(LanguageTag::stored),
            address: r.address,
            postal_code: r.postal_code,
            city: r.city,
            country: r.country,
            nationality: r.nationality,
            birth_date: r.birth_date.map(|d| d.0),
        })
    }
}

/// Rows to contacts.
pub(crate) fn contacts_from(rows: Vec<ContactRow>) -> Result<Vec<Contact>, StoreError> {
    rows.into_iter().map(Contact::try_from).collect()
}

pub(crate) async fn contact(
    conn: Conn<'_>,
    account: Uuid,
    id: Uuid,
) -> Result<Contact, StoreError> {
    let row: ContactRow = on!(conn, c, _db => {
        sqlx::query_as("SELECT * FROM contacts WHERE id = $1 AND account_id = $2")
            .bind(Id(id))
            .bind(Id(account))
            .fetch_one(&mut *c)
            .await?
    });
    row.try_into()
}

/// Contacts by id, whatever their account (the dispatcher's batch).
pub(crate) async fn contacts_by_id(
    conn: Conn<'_>,
    ids: &[Uuid],
) -> Result<Vec<Contact>, StoreError> {
    let rows: Vec<ContactRow> = on!(conn, c, db => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT * FROM contacts WHERE id {}", db::in_list(1))))
            .bind(db::id_list(ids))
            .fetch_all(&mut *c)
            .await?
    });
    contacts_from(rows)
}

/// The account's contacts whose `column` (email or phone_e164) is one of `values`.
async fn contacts_where<S: AsRef<str>>(
    conn: Conn<'_>,
    account: Uuid,
    column: &'static str,
    values: &[S],
) -> Result<Vec<Contact>, StoreError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ContactRow> = on!(conn, c, db => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM contacts WHERE account_id = $1 AND {column} {} ORDER BY id",
            db::in_list(2)
        )))
        .bind(Id(account))
        .bind(db::text_list(values))
        .fetch_all(&mut *c)
        .await?
    });
    contacts_from(rows)
}

impl Tx {
    /// Stores a new contact, or replaces an existing one.
    pub async fn upsert_contact(&mut self, c: &Contact, now: Timestamp) -> Result<(), StoreError> {
        on!(self.conn(), conn, _db => {
            sqlx::query(
                "INSERT INTO contacts (id, account_id, first_name, last_name, email, phone, phone_e164, phone_type,
                   language, address, postal_code, city, country, nationality, birth_date, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
                 ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
                   email = excluded.email, phone = excluded.phone, phone_e164 = excluded.phone_e164,
                   phone_type = excluded.phone_type, language = excluded.language,
                   address = excluded.address, postal_code = excluded.postal_code, city = excluded.city,
                   country = excluded.country, nationality = excluded.nationality,
                   birth_date = excluded.birth_date, updated_at = excluded.updated_at
                 WHERE contacts.account_id = excluded.account_id",
            )
            .bind(Id(c.id))
            .bind(Id(c.account_id))
            .bind(c.first_name.as_deref())
            .bind(c.last_name.as_deref())
            .bind(c.email.as_deref())
            .bind(c.phone.as_deref())
            .bind(c.phone_e164.as_deref())
            .bind(c.phone_type.map(|t| t.as_str()))
            .bind(c.language.as_deref())
            .bind(c.address.as_deref())
            .bind(c.postal_code.as_deref())
            .bind(c.city.as_deref())
            .bind(c.country.as_deref())
            .bind(c.nationality.as_deref())
            .bind(c.birth_date.map(Day))
            .bind(Ts(now))
            .execute(&mut *conn)
            .await?;
        });
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
        let row: Option<ContactRow> = on!(self.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM contacts WHERE account_id = $1 AND email = $2 ORDER BY id LIMIT 1")
                .bind(Id(account))
                .bind(email)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(Contact::try_from).transpose()
    }

    /// The account's contact with this E.164 number, if any (to deduplicate).
    pub async fn contact_by_phone(
        &mut self,
        account: Uuid,
        e164: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let row: Option<ContactRow> = on!(self.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM contacts WHERE account_id = $1 AND phone_e164 = $2 ORDER BY id LIMIT 1")
                .bind(Id(account))
                .bind(e164)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(Contact::try_from).transpose()
    }

    /// The account's contacts among `ids`.
    pub async fn contacts_by_ids(
        &mut self,
        account: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Contact>, StoreError> {
        let found = contacts_by_id(self.conn(), ids).await?;
        Ok(found
            .into_iter()
            .filter(|c| c.account_id == account)
            .collect())
    }

    /// The account's contacts with one of these email addresses (lower case), oldest first.
    pub async fn contacts_by_emails(
        &mut self,
        account: Uuid,
        emails: &[EmailAddress],
    ) -> Result<Vec<Contact>, StoreError> {
        contacts_where(self.conn(), account, "email", emails).await
    }

    /// The account's contacts with one of these E.164 numbers, oldest first.
    pub async fn contacts_by_phones(
        &mut self,
        account: Uuid,
        numbers: &[E164],
    ) -> Result<Vec<Contact>, StoreError> {
        contacts_where(self.conn(), account, "phone_e164", numbers).await
    }

    /// Stores new contacts, many per statement (imports).
    pub async fn insert_contacts(
        &mut self,
        contacts: &[Contact],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for chunk in contacts.chunks(500) {
            on!(self.conn(), conn, db => {
                let mut q = sqlx::QueryBuilder::<db::Db>::new(
                    "INSERT INTO contacts (id, account_id, first_name, last_name, email, phone, phone_e164, phone_type,
                       language, address, postal_code, city, country, nationality, birth_date, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut row, c| {
                    row.push_bind(Id(c.id))
                        .push_bind(Id(c.account_id))
                        .push_bind(c.first_name.as_deref())
                        .push_bind(c.last_name.as_deref())
                        .push_bind(c.email.as_deref())
                        .push_bind(c.phone.as_deref())
                        .push_bind(c.phone_e164.as_deref())
                        .push_bind(c.phone_type.map(|t| t.as_str()))
                        .push_bind(c.language.as_deref())
                        .push_bind(c.address.as_deref())
                        .push_bind(c.postal_code.as_deref())
                        .push_bind(c.city.as_deref())
                        .push_bind(c.country.as_deref())
                        .push_bind(c.nationality.as_deref())
                        .push_bind(c.birth_date.map(Day))
                        .push_bind(Ts(now))
                        .push_bind(Ts(now));
                });
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }

    /// Ids of the contact's bookings (to re-plan them when the contact changes).
    pub async fn booking_ids_of_contact(
        &mut self,
        contact_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar("SELECT id FROM bookings WHERE contact_id = $1")
                .bind(Id(contact_id))
                .fetch_all(&mut *c)
                .await?
        });
        Ok(ids.into_iter().map(|i| i.0).collect())
    }
}

impl Store {
    /// A contact of the account.
    pub async fn contact(&self, account: Uuid, id: Uuid) -> Result<Contact, StoreError> {
        contact(self.acquire().await?.conn(), account, id).await
    }

    /// The account's contacts, ordered by id (UUIDv7: creation order), after `after`.
    pub async fn contacts(
        &self,
        account: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Contact>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<ContactRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM contacts WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(Id(account))
                .bind(Id(after.unwrap_or(Uuid::nil())))
                .bind(limit)
                .fetch_all(&mut *c)
                .await?
        });
        contacts_from(rows)
    }
}
