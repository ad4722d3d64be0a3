//! The `bellhop` command: parses the command line and hands over to the library.

use anyhow::Context;
use bellhop::{app, bench, config::Config, demo, diagnose, import, presets, timeline};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// bellhop — the right email at the right moment, for hotels and appointment businesses.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (TOML); `bellhop.toml` is read when present.
    #[arg(long, global = true, env = "BELLHOP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API, planner and dispatcher (any number of nodes may share a PostgreSQL
    /// database).
    Serve {
        /// What this node does: `all` (default), `api` (HTTP API only) or `worker`
        /// (dispatcher and expiry sweep, with /healthz and /readyz).
        #[arg(long)]
        role: Option<bellhop::config::Role>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// Manage the users who sign in to the staff web UI (`/app`).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Show what will be sent between two instants (RFC 3339 or YYYY-MM-DD), and why not.
    Timeline {
        /// From (default: now).
        #[arg(long)]
        from: Option<String>,
        /// To (default: from + 7 days).
        #[arg(long)]
        to: Option<String>,
    },
    /// Simulate a month of a demo hotel and salon on a fresh database, writing .eml files.
    Demo {
        /// Folder for the database and the mails.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
        /// Afterwards, serve the demo's world in the staff web UI until Ctrl-C.
        #[arg(long)]
        serve: bool,
        /// Where `--serve` listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// SMS diagnostics.
    Sms {
        #[command(subcommand)]
        action: SmsAction,
    },
    /// Phone number diagnostics.
    Phone {
        #[command(subcommand)]
        action: PhoneAction,
    },
    /// A contact's data: export everything kept about them, or erase them (GDPR).
    Contact {
        #[command(subcommand)]
        action: ContactAction,
    },
    /// AlpineBits diagnostics.
    Alpinebits {
        #[command(subcommand)]
        action: AlpinebitsAction,
    },
    /// Autoresponder diagnostics.
    Autoreply {
        #[command(subcommand)]
        action: AutoreplyAction,
    },
    /// Ready-made rules and templates for a hotel or a salon.
    Presets {
        #[command(subcommand)]
        action: PresetsAction,
    },
    /// Benchmarks (see bench/ for the scripts that start the SMTP sink).
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
}

#[derive(Subcommand)]
enum AccountAction {
    /// Create an account and print its first API key (shown once).
    Create {
        /// Account name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user — the first owner of a new installation, for one. Without an account
    /// and none in the database, an account is created too (its first API key printed once).
    Create {
        /// Sign-in address.
        #[arg(long)]
        email: String,
        /// Name shown in the UI and in histories.
        #[arg(long)]
        name: String,
        /// `owner` (users, keys, properties, SMS settings too) or `staff`.
        #[arg(long, default_value = "owner")]
        role: String,
        /// `de` or `en` (default: the browser's language).
        #[arg(long)]
        language: Option<String>,
        /// The account (needed when there is more than one).
        #[arg(long)]
        account: Option<uuid::Uuid>,
        /// Read the password from the first line of standard input; otherwise one is
        /// generated and printed once.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Bookings from a CSV file (a header row naming the fields, `contact.email` and so on
    /// for the guest) or NDJSON (one JSON booking per line, as for the API). Each needs
    /// `external_id`, its source's reference: importing the same file again changes
    /// nothing. Rows that fail their checks are listed with their line; the rest go in.
    Bookings {
        /// The file (`.csv`, `.ndjson` or `.jsonl`).
        file: PathBuf,
        /// The account (needed when there is more than one).
        #[arg(long)]
        account: Option<uuid::Uuid>,
        /// The file's format, when its name does not tell.
        #[arg(long, value_enum)]
        format: Option<import::Format>,
    },
}

#[derive(Subcommand)]
enum ContactAction {
    /// Print everything kept about a contact as JSON: contact, bookings with history,
    /// messages with bodies, consent history, SMS received, one-time codes.
    Export {
        /// The contact.
        id: uuid::Uuid,
        /// The account (needed when there is more than one).
        #[arg(long)]
        account: Option<uuid::Uuid>,
    },
    /// Erase a contact: personal data leaves every table and kept bodies; bookings and
    /// messages stay without it; a digest keeps their marketing withdrawal honoured.
    Erase {
        /// The contact.
        id: uuid::Uuid,
        /// The account (needed when there is more than one).
        #[arg(long)]
        account: Option<uuid::Uuid>,
        /// Erase without asking (it cannot be undone).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum PresetsAction {
    /// Every preset: key, set (hotel or salon), name, languages.
    List,
    /// A preset as a guest would receive it (sample hotel, booking and guest): the HTML mail,
    /// or with --text its subject and text part.
    Preview {
        /// The preset's key.
        key: String,
        /// Language of the variant.
        #[arg(long, default_value = "de")]
        language: String,
        /// Subject and text part instead of the HTML.
        #[arg(long)]
        text: bool,
    },
    /// Install presets on a property with their templates (repeating it changes nothing).
    Install {
        /// Preset keys (see `bellhop presets list`).
        keys: Vec<String>,
        /// Every preset of a set: `hotel` or `salon`.
        #[arg(long)]
        set: Option<String>,
        /// The property (needed when the account has more than one).
        #[arg(long)]
        property: Option<uuid::Uuid>,
        /// The account (needed when there is more than one).
        #[arg(long)]
        account: Option<uuid::Uuid>,
    },
}

#[derive(Subcommand)]
enum SmsAction {
    /// Encoding, number of SMS, units, the characters that force UCS-2, and the parts.
    Inspect {
        /// Replace typographic quotes, dashes, ellipses and special spaces with GSM ones
        /// when that makes the text GSM-7.
        #[arg(long)]
        smart_encoding: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// The text (`-` reads standard input).
        #[arg(allow_hyphen_values = true)]
        text: String,
    },
    /// Print the kannel.conf groups that connect Kannel to this installation: the
    /// sendsms-user bellhop logs in as, and the sms-service whose get-url delivers inbound
    /// SMS (STOP, START) with the token bellhop checks.
    KannelConfig,
}

#[derive(Subcommand)]
enum AutoreplyAction {
    /// Read one mail from standard input and print whether a mailbox with these addresses
    /// would answer it, and why: {"reply", "reason", ...}, with the reply's "to", "subject",
    /// "in_reply_to" and "auto_submitted" when it would. Stateless (the once-per-period rule
    /// is not applied); exits 0 whatever it decides.
    Explain {
        /// The mailbox's address.
        #[arg(long)]
        address: String,
        /// Another address of the mailbox (repeatable).
        #[arg(long = "alias")]
        aliases: Vec<String>,
        /// The SMTP envelope sender (`MAIL FROM`; empty for `<>`). Default: the message's
        /// Return-Path, else its From.
        #[arg(long)]
        envelope_from: Option<String>,
        /// The SMTP envelope recipient (`RCPT TO`).
        #[arg(long)]
        envelope_to: Option<String>,
        /// Print one JSON object on one line (default: indented).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AlpinebitsAction {
    /// Read one GuestRequests message (OTA_ResRetrieveRS or OTA_HotelResNotifRQ, 2018-10 to
    /// 2024-10) and print what bellhop takes from it; stores nothing. A refused message
    /// prints {"error": ...} and exits 1.
    Parse {
        /// Print one JSON object on one line (default: indented).
        #[arg(long)]
        json: bool,
        /// The file (`-` reads standard input).
        #[arg(allow_hyphen_values = true)]
        file: String,
    },
}

#[derive(Subcommand)]
enum PhoneAction {
    /// E.164 form, validity and type (mobile, fixed_line, ...) of a number.
    Normalize {
        /// Country a national number is read in (ISO 3166-1 alpha-2, such as AT).
        #[arg(long)]
        country: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// The number as typed.
        #[arg(allow_hyphen_values = true)]
        input: String,
    },
}

fn print_report<T: serde::Serialize>(json: bool, report: &T, text: String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        print!("{text}");
    }
    Ok(())
}

fn parse_instant(text: &str) -> anyhow::Result<jiff::Timestamp> {
    if let Ok(ts) = text.parse() {
        return Ok(ts);
    }
    let date: jiff::civil::Date = text
        .parse()
        .with_context(|| format!("{text:?} is neither an RFC 3339 instant nor a date"))?;
    Ok(date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = || Config::load(cli.config.as_deref());
    match cli.command {
        Command::Demo { out, serve, listen } => {
            let world = demo::run(&out).await?;
            if serve {
                demo::serve(&world, &listen).await?;
            }
            Ok(())
        }
        Command::Bench { which } => bench::run(which).await,
        Command::Sms {
            action:
                SmsAction::Inspect {
                    smart_encoding,
                    json,
                    text,
                },
        } => {
            let text = if text == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                text
            };
            let report = diagnose::sms_report(&text, smart_encoding);
            print_report(json, &report, diagnose::render_sms(&report))
        }
        Command::Sms {
            action: SmsAction::KannelConfig,
        } => {
            print!("{}", app::kannel_config(&config()?).await?);
            Ok(())
        }
        Command::Phone {
            action:
                PhoneAction::Normalize {
                    country,
                    json,
                    input,
                },
        } => {
            if let Some(c) = &country {
                bellhop_domain::phone::check_country(c).context("--country")?;
            }
            let report = diagnose::phone_report(&input, country.as_deref());
            print_report(json, &report, diagnose::render_phone(&report))
        }
        Command::Serve { role } => {
            let mut config = config()?;
            if let Some(role) = role {
                config.role = role;
            }
            app::serve(&config).await
        }
        Command::Presets {
            action: PresetsAction::List,
        } => {
            print!("{}", presets::list());
            Ok(())
        }
        Command::Presets {
            action:
                PresetsAction::Preview {
                    key,
                    language,
                    text,
                },
        } => {
            print!("{}", presets::preview(&key, &language, text)?);
            Ok(())
        }
        Command::Presets {
            action:
                PresetsAction::Install {
                    keys,
                    set,
                    property,
                    account,
                },
        } => {
            let store = app::open_store(&config()?).await?;
            let report = presets::install(store, account, property, keys, set).await?;
            print!("{}", presets::describe(&report));
            Ok(())
        }
        Command::Alpinebits {
            action: AlpinebitsAction::Parse { json, file },
        } => {
            let result = bellhop::alpinebits::read_input(&file)
                .and_then(|xml| bellhop::alpinebits::report(&xml));
            let (value, ok) = match result {
                Ok(v) => (v, true),
                Err(e) => (serde_json::json!({ "error": e }), false),
            };
            let text = if json {
                serde_json::to_string(&value)?
            } else {
                serde_json::to_string_pretty(&value)?
            };
            println!("{text}");
            if !ok {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Autoreply {
            action:
                AutoreplyAction::Explain {
                    address,
                    aliases,
                    envelope_from,
                    envelope_to,
                    json,
                },
        } => {
            let value =
                bellhop::autoreply::explain_stdin(address, aliases, envelope_from, envelope_to)?;
            let text = if json {
                serde_json::to_string(&value)?
            } else {
                serde_json::to_string_pretty(&value)?
            };
            println!("{text}");
            Ok(())
        }
        Command::Contact {
            action: ContactAction::Export { id, account },
        } => {
            let store = app::open_store(&config()?).await?;
            print!("{}", bellhop::contacts::export(store, account, id).await?);
            Ok(())
        }
        Command::Contact {
            action: ContactAction::Erase { id, account, yes },
        } => {
            if !yes {
                anyhow::bail!("erasing cannot be undone: add --yes to erase contact {id}");
            }
            let store = app::open_store(&config()?).await?;
            let erased = bellhop::contacts::erase(store, account, id).await?;
            println!(
                "contact {id} erased: {} kept bodies deleted, {} planned messages cancelled, {} consent events reduced to a digest or removed, {} inbound SMS blanked",
                erased.bodies, erased.cancelled, erased.consent_events, erased.inbound_sms
            );
            Ok(())
        }
        Command::Migrate => {
            let config = config()?;
            app::open_store(&config).await?;
            println!("migrations applied to {}", config.database);
            Ok(())
        }
        Command::Account {
            action: AccountAction::Create { name },
        } => {
            let (id, key) = app::create_account(&config()?, &name).await?;
            println!("account {id}\napi key {key}\n(the key is shown only now; store it safely)");
            Ok(())
        }
        Command::User {
            action:
                UserAction::Create {
                    email,
                    name,
                    role,
                    language,
                    account,
                    password_stdin,
                },
        } => {
            let role = bellhop_engine::Role::parse(&role)
                .with_context(|| format!("--role {role:?}: owner or staff"))?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let created = app::create_user(
                &config()?,
                account,
                bellhop_engine::NewUser {
                    email,
                    name,
                    role,
                    language,
                    password: password.clone().unwrap_or_default(),
                },
                password.is_none(),
            )
            .await?;
            print!("{created}");
            Ok(())
        }
        Command::Import {
            what:
                ImportWhat::Bookings {
                    file,
                    account,
                    format,
                },
        } => {
            let store = app::open_store(&config()?).await?;
            let started = std::time::Instant::now();
            let (report, refused) = import::bookings(store, &file, format, account).await?;
            for (line, r) in &refused {
                println!("line {line}: {}: {}", r.field, r.message);
            }
            println!(
                "{}: {} created, {} updated, {} unchanged, {} refused; {} messages planned ({:.1} s)",
                file.display(),
                report.created,
                report.updated,
                report.unchanged,
                refused.len(),
                report.plan.planned + report.plan.reopened,
                started.elapsed().as_secs_f64()
            );
            if refused.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} rows were not imported", refused.len())
            }
        }
        Command::Timeline { from, to } => {
            let store = app::open_store(&config()?).await?;
            let from = match from {
                Some(f) => parse_instant(&f)?,
                None => bellhop_engine::Clock::now(&bellhop_engine::SystemClock),
            };
            let to = match to {
                Some(t) => parse_instant(&t)?,
                None => from.checked_add(jiff::SignedDuration::from_hours(24 * 7))?,
            };
            timeline::print(&store, from, to).await
        }
    }
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error: `BELLHOP_LOG` filters (default `info`), `BELLHOP_LOG_FORMAT=json`
/// writes one JSON object per line (for log shippers); colours only on a terminal.
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("BELLHOP_LOG")
        .unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match std::env::var("BELLHOP_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().with_current_span(true).init(),
        _ => builder.init(),
    }
}
