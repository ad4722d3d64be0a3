//! `OTA_Ping:Handshaking`: the client lists versions, actions and capabilities as JSON in
//! `EchoData`; the server answers what both support.

use crate::{Error, Limits};
use quick_xml::escape::partial_escape as escape;
use serde::{Deserialize, Serialize};

/// The versions bellhop speaks, newest first.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["2024-10", "2022-10", "2020-10", "2018-10"];

/// What bellhop offers as a server, per version: the handshake and GuestRequests pushes.
const SERVER_ACTIONS: [&str; 2] = ["action_OTA_Ping", "action_OTA_HotelResNotif_GuestRequests"];

/// The handshake document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handshake {
    /// Versions with their actions.
    pub versions: Vec<VersionEntry>,
}

/// One version's actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    /// `2022-10`.
    pub version: String,
    /// Its actions.
    #[serde(default)]
    pub actions: Vec<ActionEntry>,
}

/// One action with its capabilities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionEntry {
    /// `action_OTA_Ping`.
    pub action: String,
    /// Capabilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supports: Vec<String>,
}

#[derive(Deserialize)]
struct PingRq {
    #[serde(rename = "EchoData")]
    echo: String,
}

/// Answers an `OTA_PingRQ`: the intersection of the client's versions and actions with
/// bellhop's (capabilities bellhop's actions have none of are dropped), as `OTA_PingRS`.
pub fn handshake(xml: &str, limits: &Limits) -> Result<(Handshake, String), Error> {
    let root = limits.scan(xml)?;
    if root != "OTA_PingRQ" {
        return Err(Error::UnexpectedMessage(root));
    }
    let invalid = |detail: String| Error::Invalid {
        message: "OTA_PingRQ".into(),
        detail,
    };
    let rq: PingRq = quick_xml::de::from_str(xml).map_err(|e| invalid(e.to_string()))?;
    let theirs: Handshake = serde_json::from_str(rq.echo.trim())
        .map_err(|e| invalid(format!("EchoData is not the handshake JSON: {e}")))?;
    let versions: Vec<VersionEntry> = SUPPORTED_VERSIONS
        .iter()
        .filter_map(|v| {
            let entry = theirs.versions.iter().find(|e| e.version == *v)?;
            let actions: Vec<ActionEntry> = entry
                .actions
                .iter()
                .filter(|a| SERVER_ACTIONS.contains(&a.action.as_str()))
                .map(|a| ActionEntry {
                    action: a.action.clone(),
                    supports: Vec::new(),
                })
                .collect();
            Some(VersionEntry {
                version: (*v).to_owned(),
                actions,
            })
        })
        .collect();
    if versions.is_empty() {
        return Err(invalid(format!(
            "no AlpineBits version in common; this server speaks {}",
            SUPPORTED_VERSIONS.join(", ")
        )));
    }
    let ours = Handshake { versions };
    let json = serde_json::to_string(&ours).unwrap_or_default();
    let echo = escape(rq.echo.as_str());
    let response = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OTA_PingRS xmlns="http://www.opentravel.org/OTA/2003/05" Version="8.000"><Success/><Warnings><Warning Type="11" Status="ALPINEBITS_HANDSHAKE">{}</Warning></Warnings><EchoData>{echo}</EchoData></OTA_PingRS>
"#,
        escape(json.as_str())
    );
    Ok((ours, response))
}
