//! Bulk SMS campaigns and their audience.

use crate::value::{Id, Ts};
use crate::{Store, StoreError, Tx};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

/// A bulk SMS as stored.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignRecord {
    /// Id.
    pub id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// Text template, in the property's default language.
    pub text: String,
    /// The same in other languages (language tag → text).
    pub translations: std::collections::BTreeMap<String, String>,
    /// The contact filter (JSON).
    pub filter: serde_json::Value,
    /// When it goes out.
    pub send_at: Timestamp,
    /// Recipients planned.
    pub recipients: i64,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// Which contacts a bulk SMS goes to.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AudienceFilter {
    /// Only these contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_ids: Option<Vec<Uuid>>,
    /// Only contacts with these languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    /// Only contacts living in these countries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countries: Option<Vec<String>>,
    /// Only contacts with a booking in one of these statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_statuses: Option<Vec<bellhop_domain::BookingStatus>>,
    /// Only contacts with a booking made at or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_from: Option<Timestamp>,
    /// Only contacts with a booking made before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_to: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Id,
    property_id: Id,
    name: String,
    text: String,
    translations: Json<std::collections::BTreeMap<String, String>>,
    filter: Json<serde_json::Value>,
    send_at: Ts,
    recipients: i64,
    created_by: String,
    created_at: Ts,
}

impl From<CampaignRow> for CampaignRecord {
    fn from(r: CampaignRow) -> Self {
        CampaignRecord {
            id: r.id.0,
            property_id: r.property_id.0,
            name: r.name,
            text: r.text,
            translations: r.translations.0,
            filter: r.filter.0,
            send_at: r.send_at.0,
            recipients: r.recipients,
            created_by: r.created_by,
            created_at: r.created_at.0,
        }
    }
}

impl Store {
    /// The property's bulk SMS, newest first.
    pub async fn campaigns(
        &self,
        account: Uuid,
        property: Uuid,
    ) -> Result<Vec<CampaignRecord>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<CampaignRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM sms_campaigns WHERE account_id = $1 AND property_id = $2
                 ORDER BY created_at DESC, id DESC LIMIT 200",
            )
            .bind(Id(account))
            .bind(Id(property))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows.into_iter().map(CampaignRecord::from).collect())
    }

    /// One bulk SMS by id alone (the dispatcher renders its text).
    pub async fn campaign_any(&self, id: Uuid) -> Result<CampaignRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: CampaignRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM sms_campaigns WHERE id = $1")
                .bind(Id(id))
                .fetch_one(&mut *c)
                .await?
        });
        Ok(row.into())
    }
}

impl Tx {
    /// Stores a bulk SMS.
    pub async fn insert_campaign(
        &mut self,
        account: Uuid,
        c: &CampaignRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), conn, _db => {
            sqlx::query(
                "INSERT INTO sms_campaigns (id, account_id, property_id, name, text, filter, send_at, recipients,
                   created_by, created_at, updated_at, translations)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
            )
            .bind(Id(c.id))
            .bind(Id(account))
            .bind(Id(c.property_id))
            .bind(c.name.as_str())
            .bind(c.text.as_str())
            .bind(Json(&c.filter))
            .bind(Ts(c.send_at))
            .bind(c.recipients)
            .bind(c.created_by.as_str())
            .bind(Ts(now))
            .bind(Json(&c.translations))
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Contacts with a booking at the property, filtered (a bulk SMS's audience). Every
    /// filter is optional; all given ones must hold.
    pub async fn campaign_audience(
        &mut self,
        account: Uuid,
        property: Uuid,
        f: &AudienceFilter,
    ) -> Result<Vec<bellhop_domain::Contact>, StoreError> {
        let rows: Vec<crate::contacts::ContactRow> = on!(self.conn(), c, db => {
            let mut q = sqlx::QueryBuilder::<db::Db>::new("SELECT c.* FROM contacts c WHERE c.account_id = ");
            q.push_bind(Id(account));
            if let Some(ids) = &f.contact_ids {
                q.push(" AND c.id IN (");
                let mut list = q.separated(", ");
                for id in ids {
                    list.push_bind(Id(*id));
                }
                q.push(")");
            }
            if let Some(languages) = &f.languages {
                q.push(" AND c.language IN (");
                let mut list = q.separated(", ");
                for l in languages {
                    list.push_bind(l.as_str());
                }
                q.push(")");
            }
            if let Some(countries) = &f.countries {
                q.push(" AND c.country IN (");
                let mut list = q.separated(", ");
                for l in countries {
                    list.push_bind(l.as_str());
                }
                q.push(")");
            }
            q.push(" AND EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = c.id AND b.property_id = ")
                .push_bind(Id(property));
            if let Some(statuses) = &f.booking_statuses {
                q.push(" AND b.status IN (");
                let mut list = q.separated(", ");
                for s in statuses {
                    list.push_bind(s.as_str());
                }
                q.push(")");
            }
            if let Some(from) = f.booked_from {
                q.push(" AND b.created_at >= ").push_bind(Ts(from));
            }
            if let Some(to) = f.booked_to {
                q.push(" AND b.created_at < ").push_bind(Ts(to));
            }
            q.push(") ORDER BY c.id LIMIT 100001");
            q.build_query_as().fetch_all(&mut *c).await?
        });
        crate::contacts::contacts_from(rows)
    }
}
