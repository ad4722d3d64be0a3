//! Properties, templates and rules: what a business configures.

use crate::codec::{RowExt, corrupt, ms};
use crate::{Store, StoreError, Tx};
use bellhop_domain::property::{Property, Sender, SmsSettings};
use bellhop_domain::render::{Template, Variants};
use bellhop_domain::rule::{
    Anchor, Channel, LatePolicy, Offset, OffsetUnit, Rule, TemplateChannel,
};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use jiff::Timestamp;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

fn property_from(row: &AnyRow) -> Result<Property, StoreError> {
    let zone = row.text("time_zone")?;
    Ok(Property {
        id: row.uuid("id")?,
        account_id: row.uuid("account_id")?,
        name: row.text("name")?,
        time_zone: parse_time_zone(&zone).map_err(|e| corrupt("time_zone", e))?,
        time_zone_name: zone,
        country: row.text("country")?,
        default_language: row.text("default_language")?,
        check_in_time: LocalTime::parse(&row.text("check_in_time")?)
            .map_err(|e| corrupt("check_in_time", e))?,
        check_out_time: LocalTime::parse(&row.text("check_out_time")?)
            .map_err(|e| corrupt("check_out_time", e))?,
        sender: Sender {
            email: row.text("sender_email")?,
            name: row.text("sender_name")?,
            reply_to: row.opt_text("reply_to")?,
        },
        layout_html: row.opt_text("layout_html")?,
        layout_text: row.opt_text("layout_text")?,
        sms: row.json::<SmsSettings>("sms_settings")?,
    })
}

fn sms_settings_json(p: &Property) -> Result<String, StoreError> {
    serde_json::to_string(&p.sms).map_err(|e| corrupt("sms_settings", e))
}

fn template_from(row: &AnyRow) -> Result<Template, StoreError> {
    Ok(Template {
        id: row.uuid("id")?,
        account_id: row.uuid("account_id")?,
        property_id: row.uuid("property_id")?,
        name: row.text("name")?,
        category: serde_json::from_value(serde_json::Value::String(row.text("category")?))
            .map_err(|e| corrupt("category", e))?,
        variants: Variants::from_json(
            enum_from::<TemplateChannel>("channel", row.text("channel")?)?,
            &row.text("variants")?,
        )
        .map_err(|e| corrupt("variants", e))?,
        version: row.int("version")?,
    })
}

fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn enum_from<T: serde::de::DeserializeOwned>(col: &str, text: String) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text)).map_err(|e| corrupt(col, e))
}

fn rule_from(row: &AnyRow) -> Result<Rule, StoreError> {
    let unit: OffsetUnit = enum_from("offset_unit", row.text("offset_unit")?)?;
    let amount =
        i32::try_from(row.int("offset_amount")?).map_err(|e| corrupt("offset_amount", e))?;
    Ok(Rule {
        id: row.uuid("id")?,
        account_id: row.uuid("account_id")?,
        property_id: row.uuid("property_id")?,
        name: row.text("name")?,
        anchor: row.parsed::<Anchor>("anchor")?,
        offset: Offset { amount, unit },
        time_of_day: row
            .opt_text("time_of_day")?
            .map(|t| LocalTime::parse(&t).map_err(|e| corrupt("time_of_day", e)))
            .transpose()?,
        conditions: row.json("conditions")?,
        channel: enum_from::<Channel>("channel", row.text("channel")?)?,
        template_id: row.uuid("template_id")?,
        fallback_template_id: row.opt_uuid("fallback_template_id")?,
        late_policy: enum_from::<LatePolicy>("late_policy", row.text("late_policy")?)?,
        enabled: row.int("enabled")? != 0,
    })
}

pub(crate) async fn property(
    c: &mut AnyConnection,
    account: Uuid,
    id: Uuid,
) -> Result<Property, StoreError> {
    let row = crate::sql::query("SELECT * FROM properties WHERE id = ? AND account_id = ?")
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_one(c)
        .await?;
    property_from(&row)
}

pub(crate) async fn rules_of(
    c: &mut AnyConnection,
    property_id: Uuid,
) -> Result<Vec<Rule>, StoreError> {
    let rows =
        crate::sql::query("SELECT * FROM rules WHERE property_id = ? ORDER BY created_at, id")
            .bind(property_id.to_string())
            .fetch_all(c)
            .await?;
    rows.iter().map(rule_from).collect()
}

impl Tx {
    /// Stores a new property.
    pub async fn insert_property(
        &mut self,
        p: &Property,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        crate::sql::query(
            "INSERT INTO properties (id, account_id, name, time_zone, country, default_language,
               check_in_time, check_out_time, sender_email, sender_name, reply_to, layout_html,
               layout_text, sms_sender, sms_settings, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id.to_string())
        .bind(p.account_id.to_string())
        .bind(&p.name)
        .bind(&p.time_zone_name)
        .bind(&p.country)
        .bind(&p.default_language)
        .bind(p.check_in_time.to_string())
        .bind(p.check_out_time.to_string())
        .bind(&p.sender.email)
        .bind(&p.sender.name)
        .bind(&p.sender.reply_to)
        .bind(&p.layout_html)
        .bind(&p.layout_text)
        .bind(p.sms.sender.as_ref().map(|s| s.to_string()))
        .bind(sms_settings_json(p)?)
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Replaces a property's settings.
    pub async fn update_property(
        &mut self,
        p: &Property,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = crate::sql::query(
            "UPDATE properties SET name = ?, time_zone = ?, country = ?, default_language = ?,
               check_in_time = ?, check_out_time = ?, sender_email = ?, sender_name = ?, reply_to = ?,
               layout_html = ?, layout_text = ?, sms_sender = ?, sms_settings = ?, updated_at = ?
             WHERE id = ? AND account_id = ?",
        )
        .bind(&p.name)
        .bind(&p.time_zone_name)
        .bind(&p.country)
        .bind(&p.default_language)
        .bind(p.check_in_time.to_string())
        .bind(p.check_out_time.to_string())
        .bind(&p.sender.email)
        .bind(&p.sender.name)
        .bind(&p.sender.reply_to)
        .bind(&p.layout_html)
        .bind(&p.layout_text)
        .bind(p.sms.sender.as_ref().map(|s| s.to_string()))
        .bind(sms_settings_json(p)?)
        .bind(ms(now))
        .bind(p.id.to_string())
        .bind(p.account_id.to_string())
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The property, read inside the transaction.
    pub async fn property(&mut self, account: Uuid, id: Uuid) -> Result<Property, StoreError> {
        property(self.conn(), account, id).await
    }

    /// The country of the account's first property: where a phone number typed without a
    /// country code is read when nothing else says.
    pub async fn default_country(&mut self, account: Uuid) -> Result<Option<String>, StoreError> {
        let row = crate::sql::query(
            "SELECT country FROM properties WHERE account_id = ? ORDER BY created_at, id LIMIT 1",
        )
        .bind(account.to_string())
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| r.text("country")).transpose()
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
        crate::sql::query(
            "INSERT INTO templates (id, account_id, property_id, name, channel, category, variants,
               version, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.id.to_string())
        .bind(t.account_id.to_string())
        .bind(t.property_id.to_string())
        .bind(&t.name)
        .bind(t.variants.channel().as_str())
        .bind(enum_text(&t.category))
        .bind(t.variants.to_json().map_err(|e| corrupt("variants", e))?)
        .bind(t.version)
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Replaces a template's content; its version increments.
    pub async fn update_template(
        &mut self,
        t: &Template,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let row = crate::sql::query(
            "UPDATE templates SET name = ?, category = ?, variants = ?, version = version + 1, updated_at = ?
             WHERE id = ? AND account_id = ? AND channel = ? RETURNING version",
        )
        .bind(&t.name)
        .bind(enum_text(&t.category))
        .bind(t.variants.to_json().map_err(|e| corrupt("variants", e))?)
        .bind(ms(now))
        .bind(t.id.to_string())
        .bind(t.account_id.to_string())
        .bind(t.variants.channel().as_str())
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.int("version")
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        } else {
            "UPDATE rules SET name = ?, anchor = ?, offset_amount = ?, offset_unit = ?, time_of_day = ?,
               conditions = ?, channel = ?, template_id = ?, fallback_template_id = ?, late_policy = ?,
               enabled = ?, updated_at = ?
             WHERE id = ? AND account_id = ? AND property_id = ?"
        };
        let mut query = crate::sql::query(sql)
            .bind(r.name.clone())
            .bind(r.anchor.to_string())
            .bind(r.offset.amount)
            .bind(enum_text(&r.offset.unit))
            .bind(r.time_of_day.map(|t| t.to_string()))
            .bind(serde_json::to_string(&r.conditions).map_err(|e| corrupt("conditions", e))?)
            .bind(enum_text(&r.channel))
            .bind(r.template_id.to_string())
            .bind(r.fallback_template_id.map(|t| t.to_string()))
            .bind(enum_text(&r.late_policy))
            .bind(i64::from(r.enabled))
            .bind(ms(now))
            .bind(r.id.to_string())
            .bind(r.account_id.to_string())
            .bind(r.property_id.to_string());
        if insert {
            query = query.bind(ms(now));
        }
        let done = query.execute(self.conn()).await?;
        if done.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The template, read inside the transaction.
    pub async fn template(&mut self, account: Uuid, id: Uuid) -> Result<Template, StoreError> {
        template(self.conn(), account, id).await
    }
}

async fn template(c: &mut AnyConnection, account: Uuid, id: Uuid) -> Result<Template, StoreError> {
    let row = crate::sql::query("SELECT * FROM templates WHERE id = ? AND account_id = ?")
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_one(c)
        .await?;
    template_from(&row)
}

impl Store {
    /// A property of the account.
    pub async fn property(&self, account: Uuid, id: Uuid) -> Result<Property, StoreError> {
        property(&mut *self.pool.acquire().await?, account, id).await
    }

    /// A property by id alone (for the dispatcher, which works across accounts).
    pub async fn property_any(&self, id: Uuid) -> Result<Property, StoreError> {
        let row = crate::sql::query("SELECT * FROM properties WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        property_from(&row)
    }

    /// Properties whose SMS sender is this number (to route an inbound SMS).
    pub async fn properties_by_sms_sender(
        &self,
        sender: &str,
    ) -> Result<Vec<Property>, StoreError> {
        let rows = crate::sql::query(
            "SELECT * FROM properties WHERE sms_sender = ? ORDER BY created_at, id",
        )
        .bind(sender)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(property_from).collect()
    }

    /// The account's properties.
    pub async fn properties(&self, account: Uuid) -> Result<Vec<Property>, StoreError> {
        let rows = crate::sql::query(
            "SELECT * FROM properties WHERE account_id = ? ORDER BY created_at, id",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(property_from).collect()
    }

    /// A template of the account.
    pub async fn template(&self, account: Uuid, id: Uuid) -> Result<Template, StoreError> {
        template(&mut *self.pool.acquire().await?, account, id).await
    }

    /// A template by id alone (dispatcher).
    pub async fn template_any(&self, id: Uuid) -> Result<Template, StoreError> {
        let row = crate::sql::query("SELECT * FROM templates WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        template_from(&row)
    }

    /// The account's templates (optionally of one property).
    pub async fn templates(
        &self,
        account: Uuid,
        property: Option<Uuid>,
    ) -> Result<Vec<Template>, StoreError> {
        let rows = crate::sql::query(
            "SELECT * FROM templates WHERE account_id = ? AND (? IS NULL OR property_id = ?) ORDER BY created_at, id",
        )
        .bind(account.to_string())
        .bind(property.map(|p| p.to_string()))
        .bind(property.map(|p| p.to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(template_from).collect()
    }

    /// A rule of the account.
    pub async fn rule(&self, account: Uuid, id: Uuid) -> Result<Rule, StoreError> {
        let row = crate::sql::query("SELECT * FROM rules WHERE id = ? AND account_id = ?")
            .bind(id.to_string())
            .bind(account.to_string())
            .fetch_one(&self.pool)
            .await?;
        rule_from(&row)
    }

    /// A rule by id alone (dispatcher).
    pub async fn rule_any(&self, id: Uuid) -> Result<Rule, StoreError> {
        let row = crate::sql::query("SELECT * FROM rules WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        rule_from(&row)
    }

    /// The account's rules (optionally of one property).
    pub async fn rules(
        &self,
        account: Uuid,
        property: Option<Uuid>,
    ) -> Result<Vec<Rule>, StoreError> {
        let rows = crate::sql::query(
            "SELECT * FROM rules WHERE account_id = ? AND (? IS NULL OR property_id = ?) ORDER BY created_at, id",
        )
        .bind(account.to_string())
        .bind(property.map(|p| p.to_string()))
        .bind(property.map(|p| p.to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rule_from).collect()
    }

    /// The rules of one property.
    pub async fn rules_of(&self, property_id: Uuid) -> Result<Vec<Rule>, StoreError> {
        rules_of(&mut *self.pool.acquire().await?, property_id).await
    }
}
