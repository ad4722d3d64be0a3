//! Rules: the hotel moments and the appointment presets as switches per property, every
//! rule in an editor (anchor, offset, time of day, conditions, channel, late policy), and
//! before anything is saved the dry run in words — "adds 12, moves 3, cancels 1 message" —
//! with the list, confirmed by a second click.

use super::{Form, Staff, Submitted, UiError, i18n, path_id, respond, see_other};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bellhop_domain::booking::BookingStatus;
use bellhop_domain::contact::GuestField;
use bellhop_domain::presets;
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, OffsetUnit, Rule};
use bellhop_domain::time::LocalTime;
use bellhop_engine::PlanImpact;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/rules", get(list))
        .route("/app/rules/preset", post(switch_preset))
        .route("/app/rules/{id}", get(edit).post(save))
}

#[derive(Deserialize)]
struct ListQuery {
    property: Option<String>,
    done: Option<String>,
}

async fn list(State(s): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> Response {
    let result = async {
        let account = staff.account();
        let query = s.engine.query();
        let properties = query.properties(account).await?;
        let Some(property) = q
            .property
            .as_deref()
            .and_then(|p| Uuid::parse_str(p).ok())
            .and_then(|id| properties.iter().find(|p| p.id == id))
            .or(properties.first())
        else {
            return Ok(staff.page("rules.html", "rules", ctx! { properties => Vec::<Value>::new(), property => None::<Value>, sets => Vec::<Value>::new(), rules => Vec::<Value>::new(), done => q.done }));
        };
        let rules = query.rules(account, Some(property.id)).await?;
        let by_id: HashMap<Uuid, &Rule> = rules.iter().map(|r| (r.id, r)).collect();
        let sets: Vec<Value> = [("hotel", presets::hotel()), ("salon", presets::appointments())]
            .into_iter()
            .map(|(set, list)| {
                let items: Vec<Value> = list
                    .iter()
                    .map(|p| {
                        let (_, rule_id) = bellhop_engine::preset_ids(property.id, p.key);
                        let rule = by_id.get(&rule_id);
                        json!({
                            "key": p.key, "name": p.name,
                            "on": rule.is_some_and(|r| r.enabled),
                            "rule_id": rule.map(|r| r.id),
                        })
                    })
                    .collect();
                json!({"set": set, "presets": items})
            })
            .collect();
        let rule_rows: Vec<Value> = rules
            .iter()
            .map(|r| json!({"id": r.id, "name": r.name, "anchor": anchor_key(&r.anchor.to_string()), "offset": offset_words(staff.lang, r.offset), "time": r.time_of_day.map(|t| t.to_string()), "channel": serde_json::to_value(r.channel).unwrap_or_default(), "enabled": r.enabled}))
            .collect();
        let props: Vec<Value> = properties.iter().map(|p| json!({"id": p.id, "name": p.name})).collect();
        Ok(staff.page(
            "rules.html",
            "rules",
            ctx! { properties => props, property => json!({"id": property.id, "name": property.name}), sets => sets, rules => rule_rows, done => q.done },
        ))
    }
    .await;
    respond(staff.lang, result)
}

fn offset_words(lang: i18n::Lang, offset: Offset) -> String {
    let unit = match offset.unit {
        OffsetUnit::Minutes => "unit-minutes",
        OffsetUnit::Hours => "unit-hours",
        OffsetUnit::Days => "unit-days",
    };
    let side = if offset.amount < 0 {
        "offset-before"
    } else {
        "offset-after"
    };
    i18n::text(
        lang,
        side,
        &[
            ("n", i64::from(offset.amount.unsigned_abs()).into()),
            ("unit", i18n::tr(lang, unit).into()),
        ],
    )
}

/// The dry run's page: the sentence, the list, and the button that does it.
async fn dry_run_page(
    s: &AppState,
    staff: &Staff,
    impact: &PlanImpact,
    confirm: Value,
    title: String,
    back: String,
) -> Response {
    let summary = i18n::text(
        staff.lang,
        "dry-run-summary",
        &[
            ("add", (impact.add as i64).into()),
            ("move", (impact.r#move as i64).into()),
            ("cancel", (impact.cancel as i64).into()),
        ],
    );
    // Each example with its guest and, for a time, the property's local time.
    let mut examples: Vec<Value> = Vec::new();
    for example in &impact.examples {
        let mut e = example.clone();
        let booking = e["booking_id"]
            .as_str()
            .and_then(|b| Uuid::parse_str(b).ok());
        if let Some(id) = booking
            && let Ok(b) = s.engine.query().booking(staff.account(), id).await
        {
            if let Ok(c) = s
                .engine
                .query()
                .contact(staff.account(), b.fields.contact_id)
                .await
            {
                let name = [c.first_name, c.last_name]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                e["guest"] = json!(name);
            }
            if let (Ok(p), Some(at)) = (
                s.engine
                    .query()
                    .property(staff.account(), b.fields.property_id)
                    .await,
                e["detail"]
                    .as_str()
                    .and_then(|d| d.parse::<jiff::Timestamp>().ok()),
            ) {
                e["detail"] = json!(super::local(at, &p.time_zone));
            }
        }
        examples.push(e);
    }
    let failures: Vec<Value> = impact
        .render_failures
        .iter()
        .map(|f| json!({"booking_id": f.booking_id, "language": f.language, "error": f.error}))
        .collect();
    staff.page(
        "dry_run.html",
        "rules",
        ctx! {
            title => title, summary => summary, bookings => impact.bookings, examples => examples,
            failures => failures, confirm => confirm, back => back,
        },
    )
}

async fn switch_preset(
    State(s): State<AppState>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let account = staff.account();
        let property = form
            .get("property")
            .and_then(|p| Uuid::parse_str(p).ok())
            .ok_or(UiError::BadForm)?;
        let key = form.get("key").ok_or(UiError::BadForm)?;
        let preset = presets::find(key).ok_or(UiError::NotFound)?;
        let on = form.get("on") == Some("1");
        if form.get("confirm") == Some("1") {
            s.engine.switch_preset(account, property, key, on).await?;
            return Ok(see_other(&format!("/app/rules?property={property}&done=saved")));
        }
        let impact = s.engine.dry_run_preset(account, property, key, on).await?;
        let title = i18n::text(
            staff.lang,
            if on { "preset-switch-on" } else { "preset-switch-off" },
            &[("name", preset.name.to_owned().into())],
        );
        Ok(dry_run_page(
            &s,
            &staff,
            &impact,
            json!({"action": "/app/rules/preset", "fields": [["property", property.to_string()], ["key", key], ["on", if on {"1"} else {"0"}], ["confirm", "1"]]}),
            title,
            format!("/app/rules?property={property}"),
        ).await)
    }
    .await;
    respond(staff.lang, result)
}

async fn edit(State(s): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let result = async {
        let rule = s
            .engine
            .query()
            .rule(staff.account(), path_id(&id)?)
            .await?;
        editor(&s, &staff, &rule, Vec::new(), StatusCode::OK).await
    }
    .await;
    respond(staff.lang, result)
}

/// The catalogue's word for an anchor: `status_changed_to:confirmed` → `status_changed_to`.
fn anchor_key(anchor: &str) -> String {
    anchor.split(':').next().unwrap_or(anchor).to_owned()
}

const ANCHORS: [&str; 9] = [
    "booking_created",
    "offer_created",
    "start",
    "end",
    "option_until",
    "hold_expires_at",
    "modified",
    "cancelled",
    "status_changed_to:confirmed",
];

async fn editor(
    s: &AppState,
    staff: &Staff,
    rule: &Rule,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let templates: Vec<Value> = s
        .engine
        .query()
        .templates(staff.account(), Some(rule.property_id))
        .await?
        .into_iter()
        .map(|t| json!({"id": t.id, "name": t.name}))
        .collect();
    let c = &rule.conditions;
    let list = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.join(", ")).unwrap_or_default();
    let r = json!({
        "id": rule.id, "name": rule.name, "anchor": rule.anchor.to_string(),
        "amount": rule.offset.amount.unsigned_abs(), "before": rule.offset.amount < 0,
        "unit": serde_json::to_value(rule.offset.unit).unwrap_or_default(),
        "time": rule.time_of_day.map(|t| t.to_string()).unwrap_or_default(),
        "channel": serde_json::to_value(rule.channel).unwrap_or_default(),
        "late": serde_json::to_value(rule.late_policy).unwrap_or_default(),
        "template_id": rule.template_id, "enabled": rule.enabled,
        "statuses": c.statuses.as_ref().map(|v| v.iter().map(|s| s.as_str()).collect::<Vec<_>>()).unwrap_or_default(),
        "missing": c.missing_any.as_ref().map(|v| v.iter().map(|f| f.as_str()).collect::<Vec<_>>()).unwrap_or_default(),
        "room_categories": list(&c.room_categories), "services": list(&c.services),
        "source_channels": list(&c.source_channels), "languages": list(&c.languages),
        "min_lead": c.min_lead_hours, "max_lead": c.max_lead_hours,
    });
    let mut values: Vec<String> = ANCHORS.iter().map(|a| (*a).to_owned()).collect();
    if !values.contains(&rule.anchor.to_string()) {
        values.push(rule.anchor.to_string());
    }
    let anchors: Vec<Value> = values
        .iter()
        .map(
            |a| json!({"value": a, "key": anchor_key(a), "arg": a.split_once(':').map(|(_, x)| x)}),
        )
        .collect();
    let statuses: Vec<&str> = BookingStatus::ALL.iter().map(|s| s.as_str()).collect();
    let fields: Vec<&str> = GuestField::ALL.iter().map(|f| f.as_str()).collect();
    Ok(staff.page_with_status(
        status,
        "rule.html",
        "rules",
        ctx! { r => r, anchors => anchors, templates => templates, statuses => statuses, fields => fields, errors => errors },
    ))
}

/// The rule a form describes (on top of the stored one); problems by field.
fn rule_from(form: &Form, stored: &Rule) -> Result<Rule, Vec<String>> {
    let mut errors = Vec::new();
    let mut rule = stored.clone();
    if let Some(name) = form.text("name") {
        rule.name = name;
    }
    match form.get("anchor").map(str::parse::<Anchor>) {
        Some(Ok(a)) => rule.anchor = a,
        _ => errors.push("anchor".to_owned()),
    }
    let unit: Option<OffsetUnit> = form
        .get("unit")
        .and_then(|u| serde_json::from_value(json!(u)).ok());
    match (
        form.get("amount")
            .and_then(|a| a.trim().parse::<i32>().ok()),
        unit,
    ) {
        (Some(amount), Some(unit)) if amount >= 0 => {
            let signed = if form.get("direction") == Some("before") {
                -amount
            } else {
                amount
            };
            rule.offset = Offset {
                amount: signed,
                unit,
            };
        }
        _ => errors.push("offset".to_owned()),
    }
    rule.time_of_day = match form.text("time") {
        Some(t) => match LocalTime::parse(&t) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(format!("time: {e}"));
                None
            }
        },
        None => None,
    };
    match form
        .get("channel")
        .and_then(|c| serde_json::from_value::<Channel>(json!(c)).ok())
    {
        Some(c) => rule.channel = c,
        None => errors.push("channel".to_owned()),
    }
    match form
        .get("late")
        .and_then(|c| serde_json::from_value::<LatePolicy>(json!(c)).ok())
    {
        Some(l) => rule.late_policy = l,
        None => errors.push("late_policy".to_owned()),
    }
    match form
        .get("template_id")
        .and_then(|t| Uuid::parse_str(t).ok())
    {
        Some(t) => rule.template_id = t,
        None => errors.push("template".to_owned()),
    }
    rule.enabled = form.checked("enabled");
    let list = |name: &str| {
        form.text(name).map(|v| {
            v.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
        })
    };
    let statuses: Vec<BookingStatus> = form
        .all("statuses")
        .into_iter()
        .filter_map(|st| BookingStatus::ALL.into_iter().find(|x| x.as_str() == st))
        .collect();
    let missing: Vec<GuestField> = form
        .all("missing")
        .into_iter()
        .filter_map(|f| f.parse().ok())
        .collect();
    let hours = |name: &str| form.text(name).and_then(|v| v.parse::<i64>().ok());
    rule.conditions = Conditions {
        statuses: (!statuses.is_empty()).then_some(statuses),
        missing_any: (!missing.is_empty()).then_some(missing),
        room_categories: list("room_categories"),
        services: list("services"),
        source_channels: list("source_channels"),
        languages: list("languages"),
        min_lead_hours: hours("min_lead"),
        max_lead_hours: hours("max_lead"),
        ..stored.conditions.clone()
    };
    if let Err(e) = rule.validate() {
        errors.push(e.to_string());
    }
    if errors.is_empty() {
        Ok(rule)
    } else {
        Err(errors)
    }
}

async fn save(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let stored = s
            .engine
            .query()
            .rule(staff.account(), path_id(&id)?)
            .await?;
        let rule = match rule_from(&form, &stored) {
            Ok(rule) => rule,
            Err(errors) => {
                return editor(
                    &s,
                    &staff,
                    &stored,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        };
        if form.get("confirm") == Some("1") {
            s.engine.save_rule(&rule, false).await?;
            return Ok(see_other(&format!(
                "/app/rules?property={}&done=saved",
                rule.property_id
            )));
        }
        let impact = match s.engine.dry_run_rule(&rule).await {
            Ok(impact) => impact,
            Err(bellhop_engine::EngineError::Invalid { field, message }) => {
                return editor(
                    &s,
                    &staff,
                    &stored,
                    vec![format!("{field}: {message}")],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        };
        // The confirmation posts the same fields again, with confirm=1.
        let mut fields: Vec<Value> = Vec::new();
        for (k, v) in &form.0 {
            if k != "csrf" && k != "confirm" {
                fields.push(json!([k, v]));
            }
        }
        fields.push(json!(["confirm", "1"]));
        Ok(dry_run_page(
            &s,
            &staff,
            &impact,
            json!({"action": format!("/app/rules/{}", stored.id), "fields": fields}),
            i18n::text(
                staff.lang,
                "rule-save-title",
                &[("name", rule.name.clone().into())],
            ),
            format!("/app/rules/{}", stored.id),
        )
        .await)
    }
    .await;
    respond(staff.lang, result)
}
