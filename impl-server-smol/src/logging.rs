//! Log set-up: one line per event on standard error.
//!
//! Lines read `orfa-server: MESSAGE` at the info level and `orfa-server:
//! LEVEL: MESSAGE` otherwise, followed by the event's fields. The level is
//! info unless `RUST_LOG` says otherwise (a `tracing_subscriber` filter).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The prefix of every line.
const PROGRAM: &str = "orfa-server";

/// Formats events as `orfa-server: [LEVEL: ]message fields`.
struct LineFormat;

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "{PROGRAM}: ")?;
        let level = *event.metadata().level();
        if level != Level::INFO {
            write!(writer, "{}: ", level.as_str().to_ascii_lowercase())?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs the global subscriber.
pub(crate) fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(LineFormat)
        .init();
}
