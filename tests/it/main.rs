//! The one integration-test binary: whole cycles against the HDIS simulator
//! on port 0, with the local connector and a stateful ServiceNow fake.

mod crash;
mod cycles;
mod cycles_servicenow;
mod retries;
mod service;
mod servicenow;
pub mod servicenow_fake;
mod support;
