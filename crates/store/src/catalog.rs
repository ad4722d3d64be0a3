//! Properties, templates and rules: what a business configures.

use crate::error::corrupt;
use crate::value::{Id, Ts, opt_id};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::consent::ConsentPolicy;
use bellhop_domain::property::{Brand, Property, Sender, SmsSettings};
use bellhop_domain::render::{Template, Variants};
use bellhop_domain::rule::{
    Anchor, Channel, Conditions, LatePolicy, Offset, OffsetUnit, Rule, TemplateChannel,
};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use jiff::Timestamp;
use sqlx::types::Json;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct PropertyRow {
    id: Id,
    account_id: Id,
    name: String,
    time_zone: String,
    country: String,
    default_language: String,
    check_in_time: String,
    check_out_time: String,
    sender_email: String,
    sender_name: String,
    reply_to: Option<String>,
    layout_html: Option<String>,
    layout_text: Option<String>,
    sms_settings: Json<SmsSettings>,
    brand: Json<Brand>,
    consent_policy: Json<ConsentPolicy>,
}

impl TryFrom<PropertyRow> for Property {
    type Error = StoreError;

    fn try_from(r: PropertyRow) -> Result<Property, StoreError> {
        Ok(Property {
            id: r.id.0,
            account_id: r.account_id.0,
            name: r.name,
            time_zone: parse_time_zone(&r.time_zone).map_err(|e| corrupt("time_zone", e))?,
            time_zone_name: r.time_zone,
            country: r.country,
            default_language: r.default_language,
            check_in_time: LocalTime::parse(&r.check_in_time)
                .map_err(|e| corrupt("check_in_time", e))?,
            check_out_time: LocalTime::parse(&r.check_out_time)
                .map_err(|e| corrupt("check_out_time", e))?,
            sender: Sender {
                email: r.sender_email,
                name: r.sender_name,
                reply_to: r.reply_to,
            },
            layout_html: r.layout_html,
            layout_text: r.layout_text,
            brand: r.brand.0,
            sms: r.sms_settings.0,
            consent: r.consent_policy.0,
        })
    }
}

fn properties_from(rows: Vec<PropertyRow>) -> Result<Vec<Property>, StoreError> {
    rows.into_iter().map(Property::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: Id,
    account_id: Id,
    property_id: Id,
    name: String,
    channel: String,
    category: String,
    variants: Json<serde_json::Value>,
    version: i64,
}

impl TryFrom<TemplateRow> for Template {
    type Error = StoreError;

    fn try_from(r: TemplateRow) -> Result<Template, StoreError> {
        let channel: TemplateChannel = enum_from("channel", r.channel)?;
        Ok(Template {
            id: r.id.0,
            account_id: r.account_id.0,
            property_id: r.property_id.0,
            name: r.name,
            category: enum_from("category", r.category)?,
            variants: Variants::from_json(channel, &r.variants.0.to_string())
                .map_err(|e| corrupt("variants", e))?,
            version: r.version,
        })
    }
}

fn templates_from(rows: Vec<TemplateRow>) -> Result<Vec<Template>, StoreError> {
    rows.into_iter().map(Template::try_from).collect()
}

/// A template's variants as stored JSON.
fn variants_json(t: &Template) -> Result<Json<serde_json::Value>, StoreError> {
    let text = t.variants.to_json().map_err(|e| corrupt("variants", e))?;
    serde_json::from_str(&text)
        .map(Json)
        .map_err(|e| corrupt("variants", e))
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: Id,
    account_id: Id,
    property_id: Id,
    name: String,
    anchor: String,
    offset_amount: i64,
    offset_unit: String,
    time_of_day: Option<String>,
    conditions: Json<Conditions>,
    channel: String,
    template_id: Id,
    fallback_template_id: Option<Id>,
    late_policy: String,
    enabled: bool,
}

impl TryFrom<RuleRow> for Rule {
    type Error = StoreError;

    fn try_from(r: RuleRow) -> Result<Rule, StoreError> {
        let unit: OffsetUnit = enum_from("offset_unit", r.offset_unit)?;
        let amount = i32::try_from(r.offset_amount).map_err(|e| corrupt("offset_amount", e))?;
        Ok(Rule {
            id: r.id.0,
            account_id: r.account_id.0,
            property_id: r.property_id.0,
            name: r.name,
            anchor: r
                .anchor
                .parse::<Anchor>()
                .map_err(|e| corrupt("anchor", e))?,
            offset: Offset { amount, unit },
            time_of_day: r
                .time_of_day
                .map(|t| LocalTime::parse(&t).map_err(|e| corrupt("time_of_day", e)))
                .transpose()?,
            conditions: r.conditions.0,
            channel: enum_from::<Channel>("channel", r.channel)?,
            template_id: r.template_id.0,
            fallback_template_id: r.fallback_template_id.map(|t| t.0),
            late_policy: enum_from::<LatePolicy>("late_policy", r.late_policy)?,
            enabled: r.enabled,
        })
    }
}

fn rules_from(rows: Vec<RuleRow>) -> Result<Vec<Rule>, StoreError> {
    rows.into_iter().map(Rule::try_from).collect()
}

/// A unit enum's serde name (how it is stored).
fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn enum_from<T: serde::de::DeserializeOwned>(col: &str, text: String) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text)).map_err(|e| corrupt(col, e))
}

pub(crate) async fn property(
    conn: Conn<'_>,
    account: Uuid,
    id: Uuid,
) -> Result<Property, StoreError> {
    let row: PropertyRow = on!(conn, c, _db => {
        sqlx::query_as("SELECT * FROM properties WHERE id = $1 AND account_id = $2")
            .bind(Id(id))
            .bind(Id(account))
            .fetch_one(&mut *c)
            .await?
    });
    row.try_into()
}

pub(crate) async fn rules_of(conn: Conn<'_>, property_id: Uuid) -> Result<Vec<Rule>, StoreError> {
    let rows: Vec<RuleRow> = on!(conn, c, _db => {
        sqlx::query_as("SELECT * FROM rules WHERE property_id = $1 ORDER BY created_at, id")
            .bind(Id(property_id))
            .fetch_all(&mut *c)
            .await?
    });
    rules_from(rows)
}

async fn template(conn: Conn<'_>, account: Option<Uuid>, id: Uuid) -> Result<Template, StoreError> {
    let row: TemplateRow = on!(conn, c, _db => {
        sqlx::query_as("SELECT * FROM templates WHERE id = $1 AND ($2 IS NULL OR account_id = $2)")
            .bind(Id(id))
            .bind(opt_id(account))
            .fetch_one(&mut *c)
            .await?
    });
    row.try_into()
}

/// Binds a property's settings as `$1..$18` of an insert or update (`$15`, `$16`: id and
/// account; `$17`: the brand; `$18`: the consent policy).
macro_rules! bind_property {
    ($q:expr, $p:expr, $sms:expr, $now:expr) => {
        $q.bind($p.name.as_str())
            .bind($p.time_zone_name.as_str())
            .bind($p.country.as_str())
            .bind($p.default_language.as_str())
            .bind($p.check_in_time.to_string())
            .bind($p.check_out_time.to_string())
            .bind($p.sender.email.as_str())
            .bind($p.sender.name.as_str())
            .bind($p.sender.reply_to.as_deref())
            .bind($p.layout_html.as_deref())
            .bind($p.layout_text.as_deref())
            .bind($p.sms.sender.as_ref().map(|s| s.to_string()))
            .bind(Json($sms))
            .bind(Ts($now))
            .bind(Id($p.id))
            .bind(Id($p.account_id))
            .bind(Json(&$p.brand))
            .bind(Json(&$p.consent))
    };
}

impl Tx {
    /// The account (other than `account`) whose property sends SMS from `sender`, if any.
    pub async fn sms_sender_owner_besides(
        &mut self,
        account: Uuid,
        sender: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let owner: Option<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT account_id FROM properties WHERE sms_sender = $1 AND account_id <> $2 LIMIT 1",
            )
            .bind(sender)
            .bind(Id(account))
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(owner.map(|id| id.0))
    }

    /// Stores a new property.
    pub async fn insert_property(
        &mut self,
        p: &Property,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            let q = sqlx::query(
                "INSERT INTO properties (name, time_zone, country, default_language, check_in_time, check_out_time,
                   sender_email, sender_name, reply_to, layout_html, layout_text, sms_sender, sms_settings,
                   updated_at, id, account_id, created_at, brand, consent_policy)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $14, $17, $18)",
            );
            bind_property!(q, p, &p.sms, now).execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Replaces a property's settings.
    pub async fn update_property(
        &mut self,
        p: &Property,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = on!(self.conn(), c, _db => {
            let q = sqlx::query(
                "UPDATE properties SET name = $1, time_zone = $2, country = $3, default_language = $4,
                   check_in_time = $5, check_out_time = $6, sender_email = $7, sender_name = $8, reply_to = $9,
                   layout_html = $10, layout_text = $11, sms_sender = $12, sms_settings = $13, updated_at = $14,
                   brand = $17, consent_policy = $18
                 WHERE id = $15 AND account_id = $16",
            );
            bind_property!(q, p, &p.sms, now).execute(&mut *c).await?.rows_affected()
        });
        if done == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The property, read inside the transaction.
    pub async fn property(&mut self, account: Uuid, id: Uuid) -> Result<Property, StoreError> {
        property(self.conn(), account, id).await
    }

    /// The properties a contact has bookings at.
    pub async fn properties_of_contact_bookings(
        &mut self,
        account: Uuid,
        contact: Uuid,
    ) -> Result<Vec<Property>, StoreError> {
        let rows: Vec<PropertyRow> = on!(self.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM properties WHERE account_id = $1 AND id IN
                   (SELECT property_id FROM bookings WHERE account_id = $1 AND contact_id = $2)
                 ORDER BY created_at, id",
            )
            .bind(Id(account))
            .bind(Id(contact))
            .fetch_all(&mut *c)
            .await?
        });
        properties_from(rows)
    }

    /// The category of each of a property's templates.
    pub async fn template_categories(
        &mut self,
        property: Uuid,
    ) -> Result<std::collections::HashMap<Uuid, bellhop_domain::render::Category>, StoreError> {
        let rows: Vec<(Id, String)> = on!(self.conn(), c, _db => {
            sqlx::query_as("SELECT id, category FROM templates WHERE property_id = $1")
                .bind(Id(property))
                .fetch_all(&mut *c)
                .await?
        });
        rows.into_iter()
            .map(|(id, category)| Ok((id.0, enum_from("category", category)?)))
            .collect()
    }

    /// The country of the account's first property: where a phone number typed without a
    /// country code is read when nothing else says.
    pub async fn default_country(&mut self, account: Uuid) -> Result<Option<String>, StoreError> {
        Ok(on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT country FROM properties WHERE account_id = $1 ORDER BY created_at, id LIMIT 1",
            )
            .bind(Id(account))
            .fetch_optional(&mut *c)
            .await?
        }))
    }

    /// The property's rules, read inside the transaction.
    pub async fn rules_of(&mut self, property_id: Uuid) -> Result<Vec<Rule>, StoreError> {
        rules_of(self.conn(), property_id).await
    }

    /// Stores a new template.
    pub async fn insert_template(
        &mut self,
        t: &Template,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let variants = variants_json(t)?;
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO templates (id, account_id, property_id, name, channel, category, variants,
                   version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .bind(Id(t.id))
            .bind(Id(t.account_id))
            .bind(Id(t.property_id))
            .bind(t.name.as_str())
            .bind(t.variants.channel().as_str())
            .bind(enum_text(&t.category))
            .bind(&variants)
            .bind(t.version)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Replaces a template's content; its version increments.
    pub async fn update_template(
        &mut self,
        t: &Template,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let variants = variants_json(t)?;
        let version: Option<i64> = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "UPDATE templates SET name = $1, category = $2, variants = $3, version = version + 1, updated_at = $4
                 WHERE id = $5 AND account_id = $6 AND channel = $7 RETURNING version",
            )
            .bind(t.name.as_str())
            .bind(enum_text(&t.category))
            .bind(&variants)
            .bind(Ts(now))
            .bind(Id(t.id))
            .bind(Id(t.account_id))
            .bind(t.variants.channel().as_str())
            .fetch_optional(&mut *c)
            .await?
        });
        version.ok_or(StoreError::NotFound)
    }

    /// Stores a new rule.
    pub async fn insert_rule(&mut self, r: &Rule, now: Timestamp) -> Result<(), StoreError> {
        self.write_rule(r, now, true).await
    }

    /// Replaces a rule.
    pub async fn update_rule(&mut self, r: &Rule, now: Timestamp) -> Result<(), StoreError> {
        self.write_rule(r, now, false).await
    }

    async fn write_rule(
        &mut self,
        r: &Rule,
        now: Timestamp,
        insert: bool,
    ) -> Result<(), StoreError> {
        let sql = if insert {
            "INSERT INTO rules (name, anchor, offset_amount, offset_unit, time_of_day, conditions, channel,
               template_id, fallback_template_id, late_policy, enabled, updated_at, id, account_id, property_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $12)"
        } else {
            "UPDATE rules SET name = $1, anchor = $2, offset_amount = $3, offset_unit = $4, time_of_day = $5,
               conditions = $6, channel = $7, template_id = $8, fallback_template_id = $9, late_policy = $10,
               enabled = $11, updated_at = $12
             WHERE id = $13 AND account_id = $14 AND property_id = $15"
        };
        let done = on!(self.conn(), c, _db => {
            sqlx::query(sql)
                .bind(r.name.as_str())
                .bind(r.anchor.to_string())
                .bind(i64::from(r.offset.amount))
                .bind(enum_text(&r.offset.unit))
                .bind(r.time_of_day.map(|t| t.to_string()))
                .bind(Json(&r.conditions))
                .bind(enum_text(&r.channel))
                .bind(Id(r.template_id))
                .bind(opt_id(r.fallback_template_id))
                .bind(enum_text(&r.late_policy))
                .bind(r.enabled)
                .bind(Ts(now))
                .bind(Id(r.id))
                .bind(Id(r.account_id))
                .bind(Id(r.property_id))
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        if done == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The template, read inside the transaction.
    pub async fn template(&mut self, account: Uuid, id: Uuid) -> Result<Template, StoreError> {
        template(self.conn(), Some(account), id).await
    }
}

impl Store {
    /// A property of the account.
    pub async fn property(&self, account: Uuid, id: Uuid) -> Result<Property, StoreError> {
        property(self.acquire().await?.conn(), account, id).await
    }

    /// A property by id alone (for the dispatcher, which works across accounts).
    pub async fn property_any(&self, id: Uuid) -> Result<Property, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: PropertyRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM properties WHERE id = $1")
                .bind(Id(id))
                .fetch_one(&mut *c)
                .await?
        });
        row.try_into()
    }

    /// Properties whose SMS sender is this number (to route an inbound SMS).
    pub async fn properties_by_sms_sender(
        &self,
        sender: &str,
    ) -> Result<Vec<Property>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<PropertyRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM properties WHERE sms_sender = $1 ORDER BY created_at, id")
                .bind(sender)
                .fetch_all(&mut *c)
                .await?
        });
        properties_from(rows)
    }

    /// Every property with an SMS sender, all accounts (metrics of SMS use).
    pub async fn properties_with_sms(&self) -> Result<Vec<Property>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<PropertyRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM properties WHERE sms_sender IS NOT NULL ORDER BY id")
                .fetch_all(&mut *c)
                .await?
        });
        properties_from(rows)
    }

    /// The account's properties.
    pub async fn properties(&self, account: Uuid) -> Result<Vec<Property>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<PropertyRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM properties WHERE account_id = $1 ORDER BY created_at, id")
                .bind(Id(account))
                .fetch_all(&mut *c)
                .await?
        });
        properties_from(rows)
    }

    /// A template of the account.
    pub async fn template(&self, account: Uuid, id: Uuid) -> Result<Template, StoreError> {
        template(self.acquire().await?.conn(), Some(account), id).await
    }

    /// A template by id alone (dispatcher).
    pub async fn template_any(&self, id: Uuid) -> Result<Template, StoreError> {
        template(self.acquire().await?.conn(), None, id).await
    }

    /// The account's templates (optionally of one property).
    pub async fn templates(
        &self,
        account: Uuid,
        property: Option<Uuid>,
    ) -> Result<Vec<Template>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<TemplateRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM templates WHERE account_id = $1 AND ($2 IS NULL OR property_id = $2)
                 ORDER BY created_at, id",
            )
            .bind(Id(account))
            .bind(opt_id(property))
            .fetch_all(&mut *c)
            .await?
        });
        templates_from(rows)
    }

    /// A rule of the account.
    pub async fn rule(&self, account: Uuid, id: Uuid) -> Result<Rule, StoreError> {
        self.rule_where(Some(account), id).await
    }

    /// A rule by id alone (dispatcher).
    pub async fn rule_any(&self, id: Uuid) -> Result<Rule, StoreError> {
        self.rule_where(None, id).await
    }

    async fn rule_where(&self, account: Option<Uuid>, id: Uuid) -> Result<Rule, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: RuleRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM rules WHERE id = $1 AND ($2 IS NULL OR account_id = $2)")
                .bind(Id(id))
                .bind(opt_id(account))
                .fetch_one(&mut *c)
                .await?
        });
        row.try_into()
    }

    /// The account's rules (optionally of one property).
    pub async fn rules(
        &self,
        account: Uuid,
        property: Option<Uuid>,
    ) -> Result<Vec<Rule>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<RuleRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM rules WHERE account_id = $1 AND ($2 IS NULL OR property_id = $2)
                 ORDER BY created_at, id",
            )
            .bind(Id(account))
            .bind(opt_id(property))
            .fetch_all(&mut *c)
            .await?
        });
        rules_from(rows)
    }

    /// The rules of one property.
    pub async fn rules_of(&self, property_id: Uuid) -> Result<Vec<Rule>, StoreError> {
        rules_of(self.acquire().await?.conn(), property_id).await
    }
}
