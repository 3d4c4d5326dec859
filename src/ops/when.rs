//! Times given on the command line, read with [`crate::model::when`] against the action's
//! clock, and checked for the side of "now" they must lie on.

use chrono::{DateTime, Utc};

use super::Context;
use crate::error::{Error, Result};
use crate::model::when::{parse_when, DateOnly};
use crate::model::Config;

fn read(
    field: &str,
    text: &str,
    ctx: &Context,
    config: &Config,
    day: DateOnly,
) -> Result<DateTime<Utc>> {
    parse_when(text, config.calendar.tz(), Some(ctx.now), day).map_err(|source| Error::Time {
        field: field.to_string(),
        input: text.to_string(),
        source,
    })
}

/// A time the user gives for something that already happened; a date alone is its start.
pub(crate) fn parse_past_time(
    field: &str,
    text: &str,
    ctx: &Context,
    config: &Config,
) -> Result<DateTime<Utc>> {
    let t = read(field, text, ctx, config, DateOnly::StartOfDay)?;
    if t > ctx.now {
        return Err(Error::invalid(
            field,
            format!("{text:?} is in the future (now is {})", shown(ctx, config)),
        ));
    }
    Ok(t)
}

/// A time that must lie ahead (an ETA); a date alone is the end of that business day
/// (the calendar's closing time), so a customer is never promised "by 00:00".
pub(crate) fn parse_future_time(
    field: &str,
    text: &str,
    ctx: &Context,
    config: &Config,
) -> Result<DateTime<Utc>> {
    let t = read(
        field,
        text,
        ctx,
        config,
        DateOnly::At(config.calendar.close()),
    )?;
    if t <= ctx.now {
        return Err(Error::invalid(
            field,
            format!(
                "{text:?} is not in the future (now is {})",
                shown(ctx, config)
            ),
        ));
    }
    Ok(t)
}

/// Now, as the person sees it: in the case book's zone.
fn shown(ctx: &Context, config: &Config) -> String {
    ctx.now
        .with_timezone(&config.calendar.tz())
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}
