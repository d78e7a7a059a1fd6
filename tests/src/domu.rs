//! What the domU tests share: the one Linux dom0 run of the domU flow
//! (`image_builder::domu_flow`), expectations reported with its whole log,
//! and the parser of the kernel's `balloon:` lines (the other lines use
//! [`crate::protocol`]).

use std::sync::OnceLock;

use image_builder::{domu_flow, Dom0Run};

/// The flow's run, shared by every test of the binary (one dom0 boot).
///
/// Panics if the run could not even be attempted (the kernel does not
/// build, the image cannot be built, QEMU is missing).
pub fn flow_run() -> &'static Dom0Run {
    static RUN: OnceLock<Result<Dom0Run, String>> = OnceLock::new();
    let run = RUN.get_or_init(|| {
        let kernel = crate::kernel();
        domu_flow::run(&kernel).map_err(|error| error.to_string())
    });
    match run {
        Ok(run) => run,
        Err(message) => panic!("could not run the domU flow in a Linux dom0: {message}"),
    }
}

/// Expectations about a Linux dom0 run, reported together with its log.
#[must_use = "call finish() to report the failed expectations"]
pub struct FlowChecks<'run> {
    run: &'run Dom0Run,
    scenario: &'static str,
    results: Vec<(String, String)>,
    failures: Vec<String>,
}

impl<'run> FlowChecks<'run> {
    /// Starts checking `run` for `scenario`.
    pub fn new(scenario: &'static str, run: &'run Dom0Run) -> Self {
        FlowChecks {
            run,
            scenario,
            results: domu_flow::results(run),
            failures: Vec::new(),
        }
    }

    /// The run being checked.
    pub fn run(&self) -> &'run Dom0Run {
        self.run
    }

    /// Records `message` (prefixed with `step`) unless `condition` holds.
    pub fn expect(
        &mut self,
        step: &str,
        condition: bool,
        message: impl FnOnce() -> String,
    ) -> bool {
        if !condition {
            self.failures.push(format!("[{step}] {}", message()));
        }
        condition
    }

    /// The script's `RESULT` value of `key`, or a failure.
    pub fn result(&mut self, step: &str, key: &str) -> Option<String> {
        let value = domu_flow::result(&self.results, key);
        if value.is_none() {
            self.failures
                .push(format!("[{step}] the script printed no RESULT {key}"));
        }
        value
    }

    /// Expects `RESULT key=expected`.
    pub fn result_is(&mut self, step: &str, key: &str, expected: &str, meaning: &str) {
        if let Some(value) = self.result(step, key) {
            self.expect(step, value == expected, || {
                format!("{key}={value}, expected {expected}: {meaning}")
            });
        }
    }

    /// The script's `RESULT` value of `key` as a number, or a failure.
    pub fn number(&mut self, step: &str, key: &str) -> Option<f64> {
        let value = self.result(step, key)?;
        let number = value.parse::<f64>().ok();
        if number.is_none() {
            self.failures
                .push(format!("[{step}] RESULT {key}={value} is not a number"));
        }
        number
    }

    /// The lines of the script's file block `name`, or a failure.
    pub fn section(&mut self, step: &str, name: &str) -> Option<Vec<&'run str>> {
        let section = self.run.section(name);
        if section.is_none() {
            self.failures
                .push(format!("[{step}] no BEGIN-FILE/END-FILE block {name}"));
        }
        section
    }

    /// The failed expectations so far.
    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    /// Panics with every failed expectation and the whole log, if any.
    pub fn finish(self) {
        if self.failures.is_empty() {
            return;
        }
        let mut report = format!(
            "scenario {:?}: {} expectation(s) failed:\n",
            self.scenario,
            self.failures.len()
        );
        for failure in &self.failures {
            report.push_str("  - ");
            report.push_str(failure);
            report.push('\n');
        }
        panic!("{report}\n{}", self.run);
    }
}

/// `balloon: target <KiB> KiB ...`: the target.
pub fn parse_balloon_target(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("balloon: target ")?;
    let (kib, rest) = rest.split_once(' ')?;
    rest.starts_with("KiB").then_some(())?;
    kib.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balloon_targets_parse() {
        assert_eq!(
            parse_balloon_target("balloon: target 24576 KiB (current 32768 KiB)"),
            Some(24576)
        );
        assert_eq!(
            parse_balloon_target("balloon: target 32768 KiB"),
            Some(32768)
        );
        assert_eq!(parse_balloon_target("balloon: target 1 MiB"), None);
        assert_eq!(parse_balloon_target("balloon: up"), None);
    }
}
