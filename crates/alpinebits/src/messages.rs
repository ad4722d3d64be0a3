//! The XML bellhop writes: answers to pushes, errors, and a client's read and acknowledgement.

use jiff::Timestamp;
use quick_xml::escape::escape;

const NS: &str = r#"xmlns="http://www.opentravel.org/OTA/2003/05""#;

/// One reservation acknowledged: its `UniqueID` type (14 or 15) and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// 14 or 15.
    pub kind: u8,
    /// The channel's id.
    pub id: String,
}

fn acks_xml(acks: &[Ack]) -> String {
    acks.iter()
        .map(|a| {
            format!(
                r#"<HotelReservation><UniqueID Type="{}" ID="{}"/></HotelReservation>"#,
                a.kind,
                escape(a.id.as_str())
            )
        })
        .collect()
}

fn warnings_xml(refused: &[(String, String)]) -> String {
    if refused.is_empty() {
        return String::new();
    }
    let list: String = refused
        .iter()
        .map(|(id, why)| {
            format!(
                r#"<Warning Type="3" Code="450" RecordID="{}">{}</Warning>"#,
                escape(id.as_str()),
                escape(why.as_str())
            )
        })
        .collect();
    format!("<Warnings>{list}</Warnings>")
}

/// `OTA_HotelResNotifRS` to a push: the reservations taken, and those refused with why.
pub fn res_notif_response(acks: &[Ack], refused: &[(String, String)]) -> String {
    let taken = if acks.is_empty() {
        String::new()
    } else {
        format!("<HotelReservations>{}</HotelReservations>", acks_xml(acks))
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OTA_HotelResNotifRS {NS} Version="7.000"><Success/>{}{taken}</OTA_HotelResNotifRS>
"#,
        warnings_xml(refused)
    )
}

/// An OTA response `root` carrying one error (`Type` 13, application error).
pub fn error_response(root: &str, code: u16, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{root} {NS} Version="7.000"><Errors><Error Type="13" Code="{code}">{}</Error></Errors></{root}>
"#,
        escape(message)
    )
}

/// `OTA_PingRS` refusing a handshake.
pub fn ping_response_error(message: &str) -> String {
    error_response("OTA_PingRS", 450, message)
}

/// `OTA_ReadRQ` for a hotel's GuestRequests: without `start`, what was not yet acknowledged.
pub fn read_request(hotel_code: &str, start: Option<Timestamp>) -> String {
    let criteria = start
        .map(|s| format!(r#"<SelectionCriteria Start="{s}"/>"#))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OTA_ReadRQ {NS} Version="7.000"><ReadRequests><HotelReadRequest HotelCode="{}">{criteria}</HotelReadRequest></ReadRequests></OTA_ReadRQ>
"#,
        escape(hotel_code)
    )
}

/// `OTA_NotifReportRQ` acknowledging pulled reservations and refusing others.
pub fn notif_report_request(acks: &[Ack], refused: &[(String, String)]) -> String {
    let details = if acks.is_empty() {
        String::new()
    } else {
        format!(
            "<NotifDetails><HotelNotifReport><HotelReservations>{}</HotelReservations></HotelNotifReport></NotifDetails>",
            acks_xml(acks)
        )
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OTA_NotifReportRQ {NS} Version="7.000"><Success/>{}{details}</OTA_NotifReportRQ>
"#,
        warnings_xml(refused)
    )
}
