//! `POST /alpinebits`: the AlpineBits HotelData server endpoint. HTTP Basic auth per channel
//! connection; `X-AlpineBits-ClientProtocolVersion` and `X-AlpineBits-ClientID` headers;
//! form fields `action` and `request` (multipart/form-data, or urlencoded). Actions:
//! `OTA_Ping:Handshaking` and `OTA_HotelResNotif:GuestRequests`.
//!
//! Refusals: a request that never reaches the XML (credentials, headers, form, action, size)
//! is answered with its HTTP status and a `ERROR:<why>` text body, as AlpineBits specifies;
//! an XML message that is refused is answered 400 with the OTA response carrying
//! `<Errors><Error Type="13">`; a reservation bellhop cannot take is refused inside a
//! successful `OTA_HotelResNotifRS` with `<Warning Type="3" Code="450" RecordID=…>`.

use crate::AppState;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use bellhop_alpinebits::{Limits, SUPPORTED_VERSIONS};
use bellhop_engine::EngineError;
use bellhop_store::Connection;

const HANDSHAKE: &str = "OTA_Ping:Handshaking";
const PUSH: &str = "OTA_HotelResNotif:GuestRequests";

fn text(status: StatusCode, message: &str) -> Response {
    let mut response = own_format((status, format!("ERROR:{message}")).into_response());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"alpinebits\""),
        );
    }
    response
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut response = own_format((status, body).into_response());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    response
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Connection, Response> {
    let refused = || {
        text(
            StatusCode::UNAUTHORIZED,
            "unauthorized: wrong user or password",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(refused)?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(refused)?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 1024 {
        return Err(refused());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| refused())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
    let (user, password) = decoded.split_once(':').ok_or_else(refused)?;
    match state.engine.connection_by_password(user, password).await {
        Ok(c) => Ok(c),
        Err(EngineError::NotFound) => Err(refused()),
        Err(e) => {
            tracing::error!(error = %e, "cannot check AlpineBits credentials");
            Err(text(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable; try again",
            ))
        }
    }
}

/// The `action` and `request` fields of the form.
async fn form(headers: &HeaderMap, body: Bytes) -> Result<(String, String), String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (mut action, mut request) = (None, None);
    if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(content_type)
            .map_err(|e| format!("multipart/form-data without a boundary: {e}"))?;
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut multipart = multer::Multipart::with_constraints(
            stream,
            boundary,
            multer::Constraints::new()
                .allowed_fields(vec!["action", "request"])
                .size_limit(
                    multer::SizeLimit::new().whole_stream(Limits::default().max_bytes as u64),
                ),
        );
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| format!("bad multipart/form-data: {e}"))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let value = field
                .text()
                .await
                .map_err(|e| format!("bad multipart/form-data field {name}: {e}"))?;
            match name.as_str() {
                "action" => action = Some(value),
                "request" => request = Some(value),
                _ => {}
            }
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|e| format!("bad application/x-www-form-urlencoded body: {e}"))?;
        for (name, value) in fields {
            match name.as_str() {
                "action" => action = Some(value),
                "request" => request = Some(value),
                _ => {}
            }
        }
    } else {
        return Err("send the fields action and request as multipart/form-data".into());
    }
    let action = action.ok_or("the form has no action field")?;
    let request = request.ok_or("the form has no request field")?;
    Ok((action, request))
}

/// The AlpineBits endpoint.
pub async fn endpoint(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let connection = match authenticate(&s, &headers).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let (status, response, error) = serve(&s, &connection, &headers, body).await;
    s.engine
        .note_channel_activity(connection.id, error.as_deref())
        .await;
    match response {
        Answer::Text(message) => text(status, &message),
        Answer::Xml(body) => xml(status, body),
    }
}

fn own_format(mut response: Response) -> Response {
    response
        .extensions_mut()
        .insert(crate::edge::OwnErrorFormat);
    response
}

enum Answer {
    Text(String),
    Xml(String),
}

async fn serve(
    s: &AppState,
    connection: &Connection,
    headers: &HeaderMap,
    body: Body,
) -> (StatusCode, Answer, Option<String>) {
    let refuse = |status: StatusCode, message: String| {
        (status, Answer::Text(message.clone()), Some(message))
    };
    let version = headers
        .get("x-alpinebits-clientprotocolversion")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let Some(version) = version else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "missing header X-AlpineBits-ClientProtocolVersion".into(),
        );
    };
    if !SUPPORTED_VERSIONS.contains(&version) {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "unsupported X-AlpineBits-ClientProtocolVersion {version:?}; supported: {}",
                SUPPORTED_VERSIONS.join(", ")
            ),
        );
    }
    let client = headers
        .get("x-alpinebits-clientid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let limits = Limits::default();
    // The form's framing adds a little to the message's own limit.
    let bytes = match axum::body::to_bytes(body, limits.max_bytes + 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request larger than {} bytes", limits.max_bytes),
            );
        }
    };
    let (action, request) = match form(headers, bytes).await {
        Ok(f) => f,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    tracing::debug!(connection_id = %connection.id, client, version, action, "alpinebits request");
    match action.as_str() {
        HANDSHAKE => match bellhop_alpinebits::handshake(&request, &limits) {
            Ok((_, response)) => (StatusCode::OK, Answer::Xml(response), None),
            Err(e) => (
                StatusCode::BAD_REQUEST,
                Answer::Xml(bellhop_alpinebits::ping_response_error(&e.to_string())),
                Some(e.to_string()),
            ),
        },
        PUSH => push(s, connection, &request, &limits).await,
        other => refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown or unsupported action {other:?}; this server takes {HANDSHAKE} and {PUSH}"
            ),
        ),
    }
}

async fn push(
    s: &AppState,
    connection: &Connection,
    request: &str,
    limits: &Limits,
) -> (StatusCode, Answer, Option<String>) {
    let read = match bellhop_alpinebits::parse_guest_requests(request, limits) {
        Ok(r) if r.message == "OTA_HotelResNotifRQ" => Ok(r),
        Ok(r) => Err(format!("{} is an answer, not a push", r.message)),
        Err(e) => Err(e.to_string()),
    };
    let read = match read {
        Ok(r) => r,
        Err(message) => {
            let body = bellhop_alpinebits::error_response("OTA_HotelResNotifRS", 450, &message);
            return (StatusCode::BAD_REQUEST, Answer::Xml(body), Some(message));
        }
    };
    let (acks, refused) = s
        .engine
        .take_guest_requests(connection, read.reservations)
        .await;
    let error = (!refused.is_empty()).then(|| {
        refused
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect::<Vec<_>>()
            .join("; ")
    });
    (
        StatusCode::OK,
        Answer::Xml(bellhop_alpinebits::res_notif_response(&acks, &refused)),
        error,
    )
}

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/alpinebits", post(endpoint))
}
