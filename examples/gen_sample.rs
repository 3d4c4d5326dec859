//! Generates `examples/data/cases.csv`: a realistic, deterministic sample of 300 cases for
//! `casebook import`, so the README and the tests share data nobody typed by hand.
//!
//!     cargo run --example gen_sample > examples/data/cases.csv
//!     cargo run --example gen_sample -- 100000 > /tmp/100k.csv

/// The sample as CSV text (the same bytes every time).
pub fn generate(rows: usize) -> String {
    const FIRST: &[&str] = &[
        "Ada",
        "Grace",
        "Alan",
        "Katherine",
        "Linus",
        "Margaret",
        "Dennis",
        "Barbara",
        "Ken",
        "Frances",
        "Tim",
        "Radia",
        "Edsger",
        "Hedy",
        "John",
        "Sophie",
        "Niklaus",
        "Annie",
        "Donald",
        "Mary",
    ];
    const LAST: &[&str] = &[
        "Lovelace",
        "Hopper",
        "Turing",
        "Johnson",
        "Torvalds",
        "Hamilton",
        "Ritchie",
        "Liskov",
        "Thompson",
        "Allen",
        "Berners-Lee",
        "Perlman",
        "Dijkstra",
        "Lamarr",
        "Backus",
        "Wilson",
        "Wirth",
        "Easley",
        "Knuth",
        "Keller",
    ];
    const PRODUCTS: &[&str] = &[
        "LaserJet 9",
        "Router X2",
        "Cloud Backup",
        "Billing portal",
        "Mobile app",
        "Smart Thermostat",
    ];
    const PROBLEMS: &[(&str, &str)] = &[
        (
            "Printer jams on every second page",
            "The printer jams on every second page since the last update.",
        ),
        (
            "Cannot log in to the portal",
            "Password reset mail never arrives; tried three times.",
        ),
        (
            "Invoice shows the wrong address",
            "The invoice for last month has our old office address.",
        ),
        (
            "Service outage in the evening",
            "The service is unreachable every evening between 18:00 and 20:00.",
        ),
        (
            "App crashes when uploading photos",
            "The app closes itself when I upload more than one photo.",
        ),
        (
            "Charged twice for one order",
            "My card was charged twice for the same order.",
        ),
        (
            "Device does not connect to Wi-Fi",
            "After the firmware update the device no longer finds our network.",
        ),
        (
            "Backup did not run last night",
            "No backup since Tuesday; the dashboard shows an error 0x80.",
        ),
    ];
    const PRIORITIES: &[&str] = &[
        "normal", "normal", "normal", "high", "high", "low", "urgent",
    ];
    const CHANNELS: &[&str] = &["email", "email", "web", "phone", "chat"];
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: usize| -> usize {
        // xorshift64*: small, deterministic, good enough for sample data.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    };
    let mut out = String::from(
        "external_id,customer,email,phone,subject,product,priority,channel,incident_at,description,opened_at\n",
    );
    for i in 0..rows {
        let (first, last) = (FIRST[next(FIRST.len())], LAST[next(LAST.len())]);
        let customer = format!("{first} {last}");
        let email = format!(
            "{}.{}@example.com",
            first.to_lowercase(),
            last.to_lowercase().replace('-', "")
        );
        let phone = format!("+49 30 {:07}", 1_000_000 + next(9_000_000));
        let (email, phone) = match next(6) {
            0 => (String::new(), phone),
            1 | 2 => (email, phone),
            _ => (email, String::new()),
        };
        let (subject, description) = PROBLEMS[next(PROBLEMS.len())];
        let product = PRODUCTS[next(PRODUCTS.len())];
        // Opened over September to mid-November 2026, in business hours.
        let (month, day) = match next(3) {
            0 => (9, 1 + next(30)),
            1 => (10, 1 + next(31)),
            _ => (11, 1 + next(15)),
        };
        let (hour, minute) = (8 + next(10), next(60));
        let opened = format!("2026-{month:02}-{day:02} {hour:02}:{minute:02}");
        let incident = if next(3) == 0 {
            String::new()
        } else {
            format!(
                "2026-{month:02}-{day:02} {:02}:{:02}",
                hour.saturating_sub(1 + next(6)),
                next(60)
            )
        };
        out.push_str(&format!(
            "HD-{:05},{customer},{email},{phone},{subject},{product},{},{},{incident},\"{description}\",{opened}\n",
            10_000 + i * 7,
            PRIORITIES[next(PRIORITIES.len())],
            CHANNELS[next(CHANNELS.len())],
        ));
    }
    out
}

#[allow(dead_code)]
fn main() {
    // An optional row count makes larger files for trying imports: `-- 100000`.
    let rows = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    print!("{}", generate(rows));
}
