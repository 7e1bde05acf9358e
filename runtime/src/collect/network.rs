//! `network`: bytes, packets, errors and drops per interface from
//! `/proc/net/dev`, under node_exporter's names.

use regex::Regex;

use super::{Collect, Context, FromOptions, read, regex_option, series};
use crate::Counter;
use crate::metric::{ExtractErrors, Series};

const LABELS: usize = 4;

/// Traffic counters per network interface.
#[derive(Debug, crate::MetricGroup)]
#[group(labels("host_name", "container_id", "instance", "device"))]
pub struct Network {
    #[metric(name = "node_network_receive_bytes_total", help = "Bytes received.")]
    receive_bytes: Counter<LABELS>,
    #[metric(
        name = "node_network_receive_packets_total",
        help = "Packets received."
    )]
    receive_packets: Counter<LABELS>,
    #[metric(name = "node_network_receive_errs_total", help = "Receive errors.")]
    receive_errs: Counter<LABELS>,
    #[metric(
        name = "node_network_receive_drop_total",
        help = "Received packets dropped."
    )]
    receive_drop: Counter<LABELS>,
    #[metric(
        name = "node_network_transmit_bytes_total",
        help = "Bytes transmitted."
    )]
    transmit_bytes: Counter<LABELS>,
    #[metric(
        name = "node_network_transmit_packets_total",
        help = "Packets transmitted."
    )]
    transmit_packets: Counter<LABELS>,
    #[metric(name = "node_network_transmit_errs_total", help = "Transmit errors.")]
    transmit_errs: Counter<LABELS>,
    #[metric(
        name = "node_network_transmit_drop_total",
        help = "Transmitted packets dropped."
    )]
    transmit_drop: Counter<LABELS>,
    exclude_devices: Regex,
}

/// The `options:` of `network`.
#[derive(Clone, Debug)]
pub struct NetworkOptions {
    /// Interfaces left out (a regex); by default none (`^$`).
    pub exclude_devices: String,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            exclude_devices: "^$".to_owned(),
        }
    }
}

impl FromOptions for Network {
    type Options = NetworkOptions;

    fn from_options(options: NetworkOptions) -> Result<Network, String> {
        Ok(Network {
            receive_bytes: Counter::default(),
            receive_packets: Counter::default(),
            receive_errs: Counter::default(),
            receive_drop: Counter::default(),
            transmit_bytes: Counter::default(),
            transmit_packets: Counter::default(),
            transmit_errs: Counter::default(),
            transmit_drop: Counter::default(),
            exclude_devices: regex_option("exclude_devices", &options.exclude_devices)?,
        })
    }
}

/// Columns of `/proc/net/dev` after `iface:`: 8 receive, then 8 transmit
/// counters; the ones served, by index.
const COLUMNS: [usize; 8] = [0, 1, 2, 3, 8, 9, 10, 11];

impl Collect for Network {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let text = read::text(&context.paths.proc("net/dev")).map_err(ExtractErrors::reading)?;
        let [h, c, i] = context.identity.labels();
        let mut columns: [Vec<Series<LABELS>>; 8] = Default::default();
        // Two header lines, then `  eth0: 1 2 3 …`.
        for line in text.lines().skip(2) {
            let Some((device, counters)) = line.split_once(':') else {
                continue;
            };
            let device = device.trim();
            if self.exclude_devices.is_match(device) {
                continue;
            }
            let fields: Vec<&str> = counters.split_whitespace().collect();
            let what = format!("/proc/net/dev: {device}");
            for (out, &column) in columns.iter_mut().zip(&COLUMNS) {
                let value = read::field(&fields, column, &what).map_err(ExtractErrors::reading)?;
                out.push(series([h, c, i, device], value));
            }
        }
        let [rb, rp, re, rd, tb, tp, te, td] = columns;
        self.receive_bytes.replace(rb);
        self.receive_packets.replace(rp);
        self.receive_errs.replace(re);
        self.receive_drop.replace(rd);
        self.transmit_bytes.replace(tb);
        self.transmit_packets.replace(tp);
        self.transmit_errs.replace(te);
        self.transmit_drop.replace(td);
        Ok(())
    }
}
